import MPI

/// The sum crosses as bfloat16 (a quarter of Double's bytes): rounded Double → Float → bfloat16
/// (each to nearest, ties to even) before the all-reduce, and added across ranks by
/// `BFloat16.mpiSum` (in Float, rounded back to bfloat16 at each addition). A sum an MPI
/// reduction step makes is rounded as a later step receives it; the alternative, gathering every
/// rank's bfloat16 values and adding them locally in Float, would round once but move (ranks − 1)
/// times the bytes to every rank: at 64 ranks more than the Double all-reduce it is meant to undercut.
final class BFloat16Wire: GradientWire {
    let buffer: StableBuffer<BFloat16>
    private let sum: StableBuffer<Double>

    init(_ sum: StableBuffer<Double>) {
        self.sum = sum
        buffer = StableBuffer(count: sum.count, repeating: BFloat16(bits: 0))
    }

    func pack(_ range: Range<Int>) {
        for i in range { buffer.storage[i] = BFloat16(rounding: Float(sum.storage[i])) }
    }

    func unpack(_ range: Range<Int>) {
        for i in range { sum.storage[i] = Double(buffer.storage[i].float) }
    }
}
