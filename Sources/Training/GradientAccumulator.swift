import MPI
import Networks

/// How a step's gradient sum crosses the group's ranks.
///
/// `bucketBytes` > 0: in buckets of about that many bytes of Double sums, each started
/// (MPI_Iallreduce) as soon as backward of the step's last chunk has finished its layers, and
/// waited for before the optimiser step; `polls` calls MPI_Test on the pending ones after every
/// layer, since Open MPI moves a started collective on only inside MPI calls. `bucketBytes` == 0:
/// one blocking all-reduce after backward. `automatic` (the default) picks one per group by where
/// its ranks run (`resolved(for:)`). Written `auto`, `single`, `buckets[:BYTES]` or
/// `buckets[:BYTES]:nopoll`.
public struct GradientReduction: Sendable, Equatable, LosslessStringConvertible {
    public var bucketBytes: Int
    public var polls: Bool
    /// Decided per group: `overlapped` where it spans nodes, `single` where it shares one.
    public var automatic = false

    /// One blocking all-reduce after backward.
    public static let single = GradientReduction(bucketBytes: 0, polls: false)
    /// 1 MiB buckets overlapped with backward, polled between layers.
    public static let overlapped = GradientReduction(bucketBytes: 1 << 20, polls: true)
    /// Overlap where a network card moves the data while backward computes (a group over
    /// several nodes); one blocking all-reduce where the group shares a node, since Open MPI's
    /// shared-memory reduction is itself work on the cores backward runs on, which overlap only
    /// moves (Benchmarks.md: buckets 0.91–1.03× one all-reduce for ryczko on one node, within noise).
    public static let auto: GradientReduction = {
        var reduction = GradientReduction.overlapped
        reduction.automatic = true
        return reduction
    }()

    public init(bucketBytes: Int, polls: Bool) {
        (self.bucketBytes, self.polls) = (bucketBytes, polls)
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts == ["single"] { self = .single; return }
        if parts == ["auto"] { self = .auto; return }
        guard parts.first == "buckets", parts.count <= 3 else { return nil }
        var rest = parts.dropFirst()
        let polls = rest.last != "nopoll"
        if !polls { rest = rest.dropLast() }
        guard rest.count <= 1 else { return nil }
        // Bounded: a bucket beyond 1 GiB overlaps nothing.
        guard let bytes = rest.first.map({ Int($0) }) ?? GradientReduction.overlapped.bucketBytes,
              (1...(1 << 30)).contains(bytes) else { return nil }
        self.init(bucketBytes: bytes, polls: polls)
    }

    public var description: String {
        if automatic { return "auto" }
        return bucketBytes == 0 ? "single" : "buckets:\(bucketBytes)" + (polls ? "" : ":nopoll")
    }

    /// The mode `group` uses: `auto` made concrete (collective over `group` then: it asks MPI
    /// which ranks share a node), any other mode as it is.
    public func resolved(for group: Communicator) throws -> GradientReduction {
        guard automatic else { return self }
        return try group.splitByNode().size < group.size ? .overlapped : .single
    }
}

/// The gradient of one optimiser step: each chunk's gradient is computed into a Float scratch
/// buffer (the layers add into it), added layer by layer into a Double sum, and the Double sum
/// is all-reduced over the group (`GradientReduction`). Double sums make the order of addition
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
    private let group: Communicator?
    private let reduction: GradientReduction
    private let buckets: BucketedAllReduce<Double>?
    /// Set by `zero()`: the sum is still last step's, and the step's first chunk assigns it
    /// instead of adding (clearing 2 MB per step was measurable on ryczko's 248 k parameters).
    private var stale = false

    /// One layer over the whole buffer and no group: for summing alone (tests).
    convenience init(parameterCount: Int) {
        self.init(parameterCount: parameterCount, layerRanges: [0..<parameterCount], reduction: .single, group: nil)
    }

    convenience init(network: Network, reduction: GradientReduction, group: Communicator) {
        self.init(parameterCount: network.parameterCount, layerRanges: network.layerParameterRanges,
                  reduction: reduction, group: group)
    }

    init(parameterCount: Int, layerRanges: [Range<Int>], reduction: GradientReduction, group: Communicator?) {
        // Every parameter belongs to exactly one layer: then adding layer by layer adds each once.
        let tiled = layerRanges.sorted { $0.lowerBound < $1.lowerBound }
        precondition(zip(tiled, tiled.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }
                     && (tiled.first?.lowerBound ?? 0) == 0 && (tiled.last?.upperBound ?? 0) == parameterCount,
                     "layer ranges \(layerRanges) do not tile \(parameterCount) parameters")
        scratch = [Float](repeating: 0, count: parameterCount)
        floatGradient = scratch
        let sum = StableBuffer<Double>(count: parameterCount, repeating: 0)
        sumBuffer = sum
        (self.layerRanges, self.group, self.reduction) = (layerRanges, group, reduction)
        // One bucket can only start when backward has ended: nothing to overlap, and the blocking
        // all-reduce is the quicker call (atomic's 90 KB gradient: Benchmarks.md).
        let boundaries = layerRanges.map(\.lowerBound)
        if let group, reduction.bucketBytes > 0,
           BucketedAllReduce<Double>.cut(count: parameterCount, boundaries: boundaries, bytes: reduction.bucketBytes).count > 1 {
            buckets = BucketedAllReduce(buffer: sum, boundaries: boundaries, bucketBytes: reduction.bucketBytes, over: group)
        } else {
            buckets = nil
        }
    }

    /// The Double sum so far.
    var sum: [Double] {
        clearIfStale()
        return Array(sumBuffer.storage)
    }

    /// Starts the next step's sum at zero (every reduction of the last one has been waited for).
    func zero() {
        buckets?.reset()
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
                guard last, let buckets else { return }
                try buckets.startBuckets(from: range.lowerBound)
                if reduction.polls { try buckets.progress() }
            }
        }
        precondition(added == layerRanges.count, "backward reported \(added) of \(layerRanges.count) layers")
    }

    /// Completes the sum over the group: waits for the buckets started during backward (and
    /// starts any not started: a rank with no sample in the step), or runs one blocking all-reduce.
    func reduce() throws {
        clearIfStale()  // a rank with no sample in the step adds zeros
        guard let group, group.size > 1 else { return }
        if let buckets {
            try buckets.finish()
        } else {
            try group.allReduce(inPlace: sumBuffer.storage, op: .sum)
        }
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
