import MPI
import Networks

/// The gradient of one optimiser step: each chunk's gradient is computed into a Float scratch
/// buffer (the layers add into it), added layer by layer into a Double sum, and the Double sum
/// crosses the group by the `GradientExchange` its `GradientReduction` makes, in its
/// `GradientPrecision`. Double sums make the order of addition
/// (on this rank and across ranks, in one buffer or in buckets) vanish below Float rounding, so
/// with one structure per chunk any rank count ends with the same parameters.
///
/// The sum lives in a `StableBuffer` allocated once: non-blocking reductions write into it
/// after the call that started them has returned, and each keeps it alive until waited for.
final class GradientAccumulator {
    private(set) var scratch: [Float]
    private var floatGradient: [Float]
    let sumBuffer: StableBuffer<Double>
    /// Each layer's range of the flat buffers, in the order `Network.backward` counts layers.
    private let layerRanges: [Range<Int>]
    /// How the sum crosses the group (nil: no group, or a group of one).
    private let exchange: GradientExchange?
    /// Set by `zero()`: the sum is still last step's, and the step's first chunk assigns it
    /// instead of adding (clearing 2 MB per step was measurable on ryczko's 248 k parameters).
    private var stale = false

    /// One layer over the whole buffer and no group: for summing alone (tests).
    convenience init(parameterCount: Int) {
        self.init(parameterCount: parameterCount, layerRanges: [0..<parameterCount], reduction: .single, precision: .double, group: nil)
    }

    convenience init(network: Network, reduction: GradientReduction, precision: GradientPrecision, group: Communicator) {
        self.init(parameterCount: network.parameterCount, layerRanges: network.layerParameterRanges,
                  reduction: reduction, precision: precision, group: group)
    }

    init(parameterCount: Int, layerRanges: [Range<Int>], reduction: GradientReduction, precision: GradientPrecision,
         group: Communicator?) {
        // Every parameter belongs to exactly one layer: then adding layer by layer adds each once.
        let tiled = layerRanges.sorted { $0.lowerBound < $1.lowerBound }
        precondition(zip(tiled, tiled.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }
                     && (tiled.first?.lowerBound ?? 0) == 0 && (tiled.last?.upperBound ?? 0) == parameterCount,
                     "layer ranges \(layerRanges) do not tile \(parameterCount) parameters")
        scratch = [Float](repeating: 0, count: parameterCount)
        floatGradient = scratch
        let sum = StableBuffer<Double>(count: parameterCount, repeating: 0)
        sumBuffer = sum
        self.layerRanges = layerRanges
        if let group, group.size > 1 {
            exchange = reduction.exchange(of: sum, layerStarts: layerRanges.map(\.lowerBound), over: group, precision: precision)
        } else {
            exchange = nil
        }
    }

    /// The Double sum so far.
    var sum: [Double] {
        clearIfStale()
        return Array(sumBuffer.storage)
    }

    /// Starts the next step's sum at zero (every reduction of the last one has been waited for).
    func zero() {
        exchange?.startStep()
        stale = true
    }

    private func clearIfStale() {
        if stale { sumBuffer.storage.update(repeating: 0) }
        stale = false
    }

    /// Runs `backward` on a zeroed scratch buffer and adds the result to the sum.
    func add(_ backward: (UnsafeMutablePointer<Float>) -> Void) {
        clearIfStale()
        scratch.withUnsafeMutableBufferPointer { scratch in
            scratch.update(repeating: 0)
            backward(scratch.baseAddress!)
            for i in scratch.indices { sumBuffer.storage[i] += Double(scratch[i]) }
        }
    }

    /// Runs `backward` on a zeroed scratch buffer; it must call the hook it is given after each
    /// layer, which adds that layer's gradient to the sum. On the step's `last` chunk the hook
    /// also starts the reduction of every bucket whose layers are then final.
    func add(last: Bool, _ backward: (UnsafeMutablePointer<Float>, (Int) throws -> Void) throws -> Void) throws {
        scratch.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
        // The layer ranges tile the buffer and each is reported once (checked below), so the
        // first chunk writes every element of the sum.
        let assigns = stale
        stale = false
        var added = 0
        try scratch.withUnsafeMutableBufferPointer { scratch in
            try backward(scratch.baseAddress!) { layer in
                let range = layerRanges[layer]
                if assigns {
                    for i in range { sumBuffer.storage[i] = Double(scratch[i]) }
                } else {
                    for i in range { sumBuffer.storage[i] += Double(scratch[i]) }
                }
                added += 1
                if last { try exchange?.layerFinished(startingAt: range.lowerBound) }
            }
        }
        precondition(added == layerRanges.count, "backward reported \(added) of \(layerRanges.count) layers")
    }

    /// Completes the sum over the group (`GradientExchange.complete`).
    func reduce() throws {
        clearIfStale()  // a rank with no sample in the step adds zeros
        try exchange?.complete()
    }

    /// The reduced sum in Float, as the optimiser takes it: written into one array kept across
    /// steps (a fresh megabyte-sized array per step costs page faults and zeroing on every rank).
    func reducedGradient() -> [Float] {
        clearIfStale()
        floatGradient.withUnsafeMutableBufferPointer { out in
            for i in out.indices { out[i] = Float(sumBuffer.storage[i]) }
        }
        return floatGradient
    }
}
