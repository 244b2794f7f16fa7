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

/// How the world is split to train an ensemble: min(ensemble, ranks) groups; world rank w is
/// in group w mod groups, and its rank there is w / groups (the split keeps world order), so
/// group sizes differ by at most one. Group g trains members g, g + groups, ... in turn.
struct GroupLayout: Sendable, Equatable {
    let worldSize: Int
    let ensemble: Int
    var groups: Int { min(ensemble, worldSize) }

    func group(ofWorldRank rank: Int) -> Int { rank % groups }
    func shard(ofWorldRank rank: Int) -> Shard { Shard(rank: rank / groups, size: size(ofGroup: group(ofWorldRank: rank))) }
    func worldRank(group: Int, rank: Int) -> Int { group + rank * groups }
    func size(ofGroup group: Int) -> Int { (worldSize - group + groups - 1) / groups }
    func members(ofGroup group: Int) -> StrideTo<Int> { stride(from: group, to: ensemble, by: groups) }
    /// The member a group trains last: its sample source is the one still held when training ends.
    func lastMember(ofGroup group: Int) -> Int { members(ofGroup: group).reversed().first ?? group }
}

/// Who evaluates each structure with every member after training: exactly one world rank, and
/// where possible one that already holds the structure's samples, so nothing cached is
/// rasterised again.
///
/// Each group ends training holding the sample source of its last member (`GroupLayout`), made
/// of that member's train and validation lists shared out by the `Shard` rule. A structure in
/// those lists of some group is evaluated by the first such group (in group order), on the rank
/// that holds it there. The rest (the test set, and structures no last member trains or
/// validates on) are listed in increasing order and shared out over the world by the `Shard`
/// rule; they are encoded when evaluated. With a streaming source, "holds" means "would encode
/// it on demand": those structures are rasterised again at evaluation, which is the streaming
/// design (memory set by the batch), not a second owner.
struct EvaluationOwners {
    /// World rank that evaluates each structure.
    let owner: [Int32]
    /// Whether that owner finds the structure in its kept sample source.
    let kept: [Bool]

    /// `lists(member)` gives a member's (train, validation) structure indices, as `TrainingPlan.split`.
    init(count: Int, layout: GroupLayout, lists: (Int) -> (train: [Int], validation: [Int])) {
        var owner = [Int32](repeating: -1, count: count)
        var kept = [Bool](repeating: false, count: count)
        for group in 0..<layout.groups {
            let (train, validation) = lists(layout.lastMember(ofGroup: group))
            let size = layout.size(ofGroup: group)
            for list in [train, validation] {
                for (position, index) in list.enumerated() where owner[index] < 0 {
                    owner[index] = Int32(layout.worldRank(group: group, rank: position % size))
                    kept[index] = true
                }
            }
        }
        var leftover = 0
        for index in owner.indices where owner[index] < 0 {
            owner[index] = Int32(leftover % layout.worldSize)
            leftover += 1
        }
        self.owner = owner
        self.kept = kept
    }

    /// The structures world rank `rank` evaluates, in increasing order, and whether each is in
    /// its kept sample source.
    func structures(of rank: Int) -> [(index: Int, kept: Bool)] {
        owner.indices.filter { owner[$0] == rank }.map { ($0, kept[$0]) }
    }
}
