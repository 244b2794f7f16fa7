import MPI

/// The sum crosses as Float (half of Double's bytes), rounded to nearest once before the
/// all-reduce and at each addition across ranks.
final class FloatWire: GradientWire {
    let buffer: StableBuffer<Float>
    private let sum: StableBuffer<Double>

    init(_ sum: StableBuffer<Double>) {
        self.sum = sum
        buffer = StableBuffer(count: sum.count, repeating: 0)
    }

    func pack(_ range: Range<Int>) {
        for i in range { buffer.storage[i] = Float(sum.storage[i]) }
    }

    func unpack(_ range: Range<Int>) {
        for i in range { sum.storage[i] = Double(buffer.storage[i]) }
    }
}
