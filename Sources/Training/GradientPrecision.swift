import MPI

/// The precision in which a step's gradient sum crosses the group (`train --gradient-precision`).
/// Each rank sums its samples in Double either way; this is only what the all-reduce moves and
/// adds: `double` (8 bytes a parameter), `float` (4: half the bytes) or `bf16` (2: a quarter,
/// bfloat16 compression as Horovod offers, rounded to nearest even). Only `double` keeps
/// `--reproducible`'s promise across rank counts: Float and bfloat16 sums round at each addition
/// across ranks, so a different rank count adds in a different grouping. Every precision gives
/// the same weights again for the same rank count, mode and data.
public enum GradientPrecision: String, CaseIterable, Sendable, LosslessStringConvertible {
    case double, float, bf16

    public init?(_ description: String) { self.init(rawValue: description) }
    public var description: String { rawValue }

    /// Bytes one parameter's sum takes on the wire.
    public var bytesPerValue: Int {
        switch self {
        case .double: return MemoryLayout<Double>.size
        case .float: return MemoryLayout<Float>.size
        case .bf16: return MemoryLayout<BFloat16>.size
        }
    }

    /// Whether any rank count ends with the same parameters (with `--reproducible`).
    public var keepsRankCountsIdentical: Bool { self == .double }

    /// The wire carrying `sum` across the group in this precision.
    func wire(for sum: StableBuffer<Double>) -> any GradientWire {
        switch self {
        case .double: return DoubleWire(sum)
        case .float: return FloatWire(sum)
        case .bf16: return BFloat16Wire(sum)
        }
    }
}

/// The buffer a step's Double gradient sum crosses the group in, and how the sum gets onto it
/// (rounded to the wire's precision) and back: one type per `GradientPrecision`.
protocol GradientWire: AnyObject {
    associatedtype Value: MPISummable
    /// What the all-reduce sums, one value per parameter.
    var buffer: StableBuffer<Value> { get }
    /// Puts elements `range` of the Double sum onto the buffer.
    func pack(_ range: Range<Int>)
    /// Puts elements `range` of the buffer (the group's sum) back into the Double sum.
    func unpack(_ range: Range<Int>)
}
