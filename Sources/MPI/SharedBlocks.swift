// Independent work shared out in contiguous blocks and its results gathered to one rank: the
// shape of the screen's scan and of the swap decomposition, built once here for both.

/// The one rule for contiguous shares: `count` items over `ranks` ranks in order, the first
/// `count % ranks` ranks taking one item more, so shares differ by at most one.
public func contiguousBlock(rank: Int, of ranks: Int, count: Int) -> Range<Int> {
    guard ranks > 0, count > 0 else { return 0..<0 }
    let base = count / ranks, extra = count % ranks
    let start = rank * base + min(rank, extra)
    return start..<(start + base + (rank < extra ? 1 : 0))
}

extension Communicator {
    /// This rank's contiguous block of `count` items (`contiguousBlock`).
    public func block(of count: Int) -> Range<Int> { contiguousBlock(rank: rank, of: size, count: count) }

    /// Every rank runs `work` on its own block of 0..<count; root gets the shares in rank order
    /// (so in item order), the other ranks nil. A collective: every rank calls it.
    public func shareOut<Share: Codable>(count: Int, root: Int, work: (Range<Int>) throws -> Share) throws -> [Share]? {
        try gather(try work(block(of: count)), root: root)
    }
}
