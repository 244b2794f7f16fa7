/// The one sharding rule: in any list shared out over a group (training samples, validation
/// samples, structures to evaluate), position p belongs to rank p mod size. Balanced batches
/// (`TrainingPlan.epochBatches`) are built around exactly this rule.
public struct Shard: Sendable, Equatable {
    public let rank: Int
    public let size: Int

    public init(rank: Int, size: Int) {
        precondition(size >= 1 && (0..<size).contains(rank), "rank \(rank) of \(size)")
        self.rank = rank
        self.size = size
    }

    public func owns(position: Int) -> Bool { position % size == rank }

    /// The elements of `list` at the positions this rank owns, in order.
    public func mine<T>(_ list: [T]) -> [T] {
        stride(from: rank, to: list.count, by: size).map { list[$0] }
    }
}
