import MPI

/// The ranks of a world as downstream modules (which call no collective) see them: independent
/// work shared out in contiguous blocks (`Communicator.shareOut`) and its items gathered in
/// order to rank 0. `TrainingRun.sharing` hands out the run's; a command makes one of its world.
public struct WorkSharing {
    let world: Communicator

    public init(world: Communicator) { self.world = world }

    public var rank: Int { world.rank }
    public var size: Int { world.size }

    /// Each rank's block of `count` items (`contiguousBlock`), in rank order.
    public func blocks(of count: Int) -> [Range<Int>] {
        (0..<world.size).map { contiguousBlock(rank: $0, of: world.size, count: count) }
    }

    /// Every rank runs `work` on its block of 0..<count, giving one result per item; rank 0 gets
    /// all the items in order, the other ranks nil. A collective: every rank calls it.
    public func gatherBlocks<Item: Codable>(count: Int, work: (Range<Int>) throws -> [Item]) throws -> [Item]? {
        try world.shareOut(count: count, root: 0, work: work).map { Array($0.joined()) }
    }
}

extension TrainingRun {
    /// The run's world, to share out work after training (the swap decomposition).
    public var sharing: WorkSharing { WorkSharing(world: world) }
}
