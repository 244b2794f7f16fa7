import MPI

/// The gradient of one optimiser step: each sample's gradient is computed into a Float scratch
/// buffer (the layers add into it), summed into a Double buffer, and the Double buffer is
/// all-reduced over the group. Double sums make the order of addition (on this rank and across
/// ranks) vanish below Float rounding, so any rank count ends with the same parameters.
struct GradientAccumulator {
    private(set) var scratch: [Float]
    private(set) var sum: [Double]

    init(parameterCount: Int) {
        scratch = [Float](repeating: 0, count: parameterCount)
        sum = [Double](repeating: 0, count: parameterCount)
    }

    mutating func zero() {
        for i in sum.indices { sum[i] = 0 }
    }

    /// Runs `backward` on a zeroed scratch buffer and adds the result to the sum.
    mutating func add(_ backward: (UnsafeMutablePointer<Float>) -> Void) {
        for i in scratch.indices { scratch[i] = 0 }
        scratch.withUnsafeMutableBufferPointer { backward($0.baseAddress!) }
        for i in scratch.indices { sum[i] += Double(scratch[i]) }
    }

    /// Sums the group's buffers in place (one all-reduce).
    mutating func reduce(over group: Communicator) throws {
        if group.size > 1 { try group.allReduce(inPlace: &sum, op: .sum) }
    }

    /// The reduced sum in Float, as the optimiser takes it.
    var gradient: [Float] { sum.map { Float($0) } }
}
