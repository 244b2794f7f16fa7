import Basics
import CBLAS
import Foundation

/// The shortest time in seconds of `repeats` runs of `body`, after one warm-up run that is not
/// counted (it pays for first-touch memory, JIT code and thread start-up).
private func bestSeconds(of repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for attempt in 0...repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if attempt > 0 { best = min(best, seconds) }
    }
    return best
}

/// The machine's single-precision GEMM rate in GFLOP/s: the best of `repeats` n×n×n
/// cblas_sgemm calls (after one warm-up) on the current BLAS threads. Benchmarks print it
/// beside their own GFLOP/s, so the figure is read against this machine, not a datasheet.
public func measuredSGEMMPeak(size n: Int = 2048, repeats: Int = 3) -> Double {
    precondition(n >= 1 && n <= 8192 && repeats >= 1)
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    let best = bestSeconds(of: repeats) {
        c.withUnsafeMutableBufferPointer { out in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), b, Int32(n),
                        0, out.baseAddress!, Int32(n))
        }
    }
    return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
}

extension Network {
    /// Samples per second of forward + backward over `items` items at once (the network alone,
    /// no optimiser or data handling), the best of `repeats` after one warm-up pass.
    public func stepRate(items: Int, repeats: Int, seed: UInt64 = 1) throws -> Double {
        precondition(items >= 1 && repeats >= 1)
        var generator = SeededGenerator(seed: seed)
        let input = (0..<(items * architecture.itemSize)).map { _ in Float(generator.uniform(0, 1)) }
        let parameters = initialParameters(seed: seed)
        var gradients = [Float](repeating: 0, count: parameterCount)
        let best = try bestSeconds(of: repeats) {
            try input.withUnsafeBufferPointer { x in
                try parameters.withUnsafeBufferPointer { p in
                    let outputs = try forward(x.baseAddress!, items: items, parameters: p.baseAddress!)
                    try gradients.withUnsafeMutableBufferPointer { g in
                        try backward(outputs, input: x.baseAddress!, items: items, parameters: p.baseAddress!, gradients: g.baseAddress!)
                    }
                }
            }
        }
        return Double(items) / best
    }
}

/// The machine's convolution-as-GEMM rate in GFLOP/s for one precision: a 1×1 oneDNN
/// convolution (a 1024 × 1024 × 4096 multiply, the same primitives training uses, bf16 inputs
/// with Float sums for `.bf16`), the best of `repeats` forward calls after one warm-up. The bf16
/// figure is what a bf16 trainer is read against: cblas_sgemm knows no bf16, and Debian's
/// OpenBLAS has no cblas_sbgemm. Nil when this CPU cannot run `precision` in hardware.
public func measuredConvolutionPeak(_ precision: ConvolutionPrecision, repeats: Int = 5) throws -> Double? {
    precondition(repeats >= 1)
    if precision == .bf16, ConvolutionPrecision.bf16HardwareProblem != nil { return nil }
    let geometry = ConvGeometry(inHeight: 32, inWidth: 32, inChannels: 1024, kernel: 1, stride: 1, filters: 4096)
    let weightCount = geometry.patchLength * geometry.filters
    let layer = LayerParameters(weights: 0..<weightCount, bias: nil, fanIn: geometry.inChannels, fanOut: geometry.filters)
    let convolution = try DNNLConvolution(geometry, activation: .identity, parameters: layer, precision: precision)
    let input = [Float](repeating: 0.5, count: geometry.inSize), weights = [Float](repeating: 0.25, count: weightCount)
    var output = [Float](repeating: 0, count: geometry.outSize)
    let best = try bestSeconds(of: repeats) {
        try output.withUnsafeMutableBufferPointer { out in
            try convolution.forward(input, into: out.baseAddress!, items: 1, parameters: weights)
        }
    }
    return 2 * Double(geometry.multiplyAddsPerItem) / best / 1e9
}
