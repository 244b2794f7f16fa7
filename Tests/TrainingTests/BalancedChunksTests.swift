import Testing
@testable import Training

/// How a rank's structures of a batch are split into passes within the activation budget.
@Suite struct BalancedChunksTests {
    func sizes(_ counts: [Int], limit: Int) -> [Int] {
        balancedChunks(itemCounts: counts, limit: limit).map { counts[$0].reduce(0, +) }
    }

    @Test func imagesThatOverflowByOneSplitEvenly() {
        // The G = 256 case: room for 31 of 32 images was a pass of 31 and a pass of 1.
        #expect(sizes(Array(repeating: 1, count: 32), limit: 31) == [16, 16])
        #expect(sizes(Array(repeating: 1, count: 32), limit: 32) == [32])
        #expect(sizes(Array(repeating: 1, count: 33), limit: 10) == [9, 9, 9, 6])
    }

    @Test func everyStructureOnceInOrderAndNoChunkPastTheLimitUnlessAlone() {
        let counts = [3, 7, 2, 9, 1, 1, 12, 4, 5]
        for limit in 1...40 {
            let chunks = balancedChunks(itemCounts: counts, limit: limit)
            #expect(chunks.flatMap { Array($0) } == Array(counts.indices), "limit \(limit)")
            for chunk in chunks where chunk.count > 1 {
                #expect(counts[chunk].reduce(0, +) <= limit, "limit \(limit): \(chunk)")
            }
        }
        #expect(balancedChunks(itemCounts: [5], limit: 1) == [0..<1])
        #expect(balancedChunks(itemCounts: [], limit: 8).isEmpty)
        // Reproducible steps (limit 1): one structure a pass.
        #expect(balancedChunks(itemCounts: [2, 2, 2], limit: 1) == [0..<1, 1..<2, 2..<3])
    }
}
