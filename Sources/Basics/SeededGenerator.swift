/// A seeded, platform-independent random number generator (SplitMix64).
///
/// Every random choice in SiteLens (initial weights, sample order, splits, synthetic data) comes
/// from one of these, so the same seed gives the same numbers on any machine. Floating-point
/// draws are built from integer bits with exact arithmetic, never from the platform's libm.
public struct SeededGenerator: RandomNumberGenerator, Codable, Equatable, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for a named stream derived from a seed, so that streams do not overlap
    /// (e.g. `SeededGenerator(seed: 7, stream: 2)` for the weights of ensemble member 2).
    public init(seed: UInt64, stream: UInt64) {
        var mixer = SeededGenerator(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        state = mixer.next() ^ stream
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * nextUnitDouble()
    }

    /// Uniform integer in 0..<bound, without modulo bias (Lemire's method).
    public mutating func nextIndex(below bound: Int) -> Int {
        precondition(bound > 0, "nextIndex(below:) needs a positive bound")
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    /// Standard normal draw (Box–Muller on this generator's uniforms).
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextUnitDouble(), 0x1.0p-60)
        let u2 = nextUnitDouble()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    /// A Fisher–Yates permutation of 0..<count.
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) {
                order.swapAt(i, nextIndex(below: i + 1))
            }
        }
        return order
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _log(_ x: Double) -> Double { Glibc.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif
