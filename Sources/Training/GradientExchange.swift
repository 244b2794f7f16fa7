import MPI

// How a step's gradient sum crosses a group's ranks: the mode a user writes
// (`GradientReduction`), and one type per way of doing it (`GradientExchange`). A new way (another
// reduction) is a new `GradientExchange` and a case of `exchange(...)`; a precision
// the sum crosses in is a `GradientWire` (GradientPrecision.swift).

/// How a step's gradient sum crosses the group's ranks.
///
/// `bucketBytes` > 0: in buckets of about that many bytes of Double sums, each started
/// (MPI_Iallreduce) as soon as backward of the step's last chunk has finished its layers, and
/// waited for before the optimiser step; `polls` calls MPI_Test on the pending ones after every
/// layer, since Open MPI moves a started collective on only inside MPI calls. `bucketBytes` == 0:
/// one blocking all-reduce after backward. `automatic` (the default) picks one per group by where
/// its ranks run (`resolved(for:)`). Written `auto`, `single`, `buckets[:BYTES]` or
/// `buckets[:BYTES]:nopoll`; `han` is one blocking all-reduce through Open MPI's hierarchical
/// coll/han (`HierarchicalCollectives`), which the command enables before MPI_Init.
public struct GradientReduction: Sendable, Equatable, LosslessStringConvertible {
    public var bucketBytes: Int
    public var polls: Bool
    /// Decided per group by where its ranks run (`ReductionChoice`).
    public var automatic = false
    /// One blocking all-reduce that Open MPI's coll/han makes hierarchical.
    public var hierarchical = false

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

    /// One blocking all-reduce, within each node first and then once per node (coll/han).
    public static let han: GradientReduction = {
        var reduction = GradientReduction.single
        reduction.hierarchical = true
        return reduction
    }()

    public init(bucketBytes: Int, polls: Bool) {
        (self.bucketBytes, self.polls) = (bucketBytes, polls)
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if parts == ["single"] { self = .single; return }
        if parts == ["auto"] { self = .auto; return }
        if parts == ["han"] { self = .han; return }
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
        if hierarchical { return "han" }
        return bucketBytes == 0 ? "single" : "buckets:\(bucketBytes)" + (polls ? "" : ":nopoll")
    }

    /// The exchange for `sum` (Double sums; layers start at `layerStarts`, in the order backward
    /// finishes them last) over `group`, in `precision`: overlapped buckets when the mode asks for
    /// them and the gradient makes more than one, else one blocking all-reduce. One bucket can
    /// only start when backward has ended: nothing to overlap, and the blocking all-reduce is the
    /// quicker call (atomic's 90 KB gradient: Benchmarks.md).
    func exchange(of sum: StableBuffer<Double>, layerStarts: [Int], over group: Communicator,
                  precision: GradientPrecision) -> GradientExchange {
        exchange(on: precision.wire(for: sum), layerStarts: layerStarts, over: group)
    }

    private func exchange<Wire: GradientWire>(on wire: Wire, layerStarts: [Int], over group: Communicator) -> GradientExchange {
        if bucketBytes > 0, BucketedAllReduce<Wire.Value>.cut(count: wire.buffer.count, boundaries: layerStarts, bytes: bucketBytes).count > 1 {
            let buckets = BucketedAllReduce(buffer: wire.buffer, boundaries: layerStarts, bucketBytes: bucketBytes, over: group)
            return OverlappedExchange(wire, buckets: buckets, polls: polls)
        }
        return BlockingExchange(wire, over: group)
    }

    /// The mode `group` uses: `auto` made concrete (collective over `group` then: it asks MPI
    /// which ranks share a node), any other mode as it is.
    public func resolved(for group: Communicator, gradientBytes: Int? = nil) throws -> GradientReduction {
        try choice(for: group, gradientBytes: gradientBytes)?.mode ?? self
    }

    /// What `auto` makes of `group` and why (collective over `group`); nil for any other mode.
    public func choice(for group: Communicator, gradientBytes: Int?) throws -> ReductionChoice? {
        guard automatic else { return nil }
        return ReductionChoice(layout: try NodeLayout(of: group), gradientBytes: gradientBytes,
                               hierarchicalEnabled: HierarchicalCollectives.isEnabled)
    }
}

/// One way a step's Double gradient sum crosses a group (on a `GradientWire`): told as backward finishes each layer of
/// the step's last chunk, completed before the optimiser step.
protocol GradientExchange: AnyObject {
    /// A new step: nothing of the last one is pending.
    func startStep()
    /// Backward of the step's last chunk has finished the layer whose parameters start at `offset`.
    func layerFinished(startingAt offset: Int) throws
    /// The sum is the group's: every rank holds the same.
    func complete() throws
}

/// One blocking all-reduce of the whole sum after backward.
final class BlockingExchange<Wire: GradientWire>: GradientExchange {
    private let wire: Wire
    private let group: Communicator

    init(_ wire: Wire, over group: Communicator) { (self.wire, self.group) = (wire, group) }

    func startStep() {}
    func layerFinished(startingAt offset: Int) throws {}

    func complete() throws {
        let all = 0..<wire.buffer.count
        wire.pack(all)
        try group.sum(inPlace: wire.buffer.storage)
        wire.unpack(all)
    }
}

/// Buckets of layers, each all-reduced (MPI_Iallreduce) as soon as backward has finished its
/// layers, so the transfer overlaps the earlier layers' backward; `polls` calls MPI_Test on the
/// pending ones after every layer, since Open MPI moves a started collective on only inside MPI
/// calls.
final class OverlappedExchange<Wire: GradientWire>: GradientExchange {
    private let wire: Wire
    private let buckets: BucketedAllReduce<Wire.Value>
    private let polls: Bool
    /// The elements from here to the end are on the wire this step (layers finish from the last).
    private var packedFrom: Int

    init(_ wire: Wire, buckets: BucketedAllReduce<Wire.Value>, polls: Bool) {
        (self.wire, self.buckets, self.polls) = (wire, buckets, polls)
        packedFrom = wire.buffer.count
    }

    func startStep() {
        buckets.reset()
        packedFrom = wire.buffer.count
    }

    func layerFinished(startingAt offset: Int) throws {
        if offset < packedFrom {
            wire.pack(offset..<packedFrom)
            packedFrom = offset
        }
        try buckets.startBuckets(from: offset)
        if polls { try buckets.progress() }
    }

    /// Waits for the buckets started during backward, and starts any not started (a rank with no
    /// sample in the step).
    func complete() throws {
        wire.pack(0..<packedFrom)
        packedFrom = 0
        try buckets.finish()
        wire.unpack(0..<wire.buffer.count)
    }
}
