import Testing
@testable import Training

/// What `--all-reduce auto` picks from a group's layout (nodes, ranks per node), its gradient's
/// bytes and whether coll/han is enabled, and that it says why.
struct ReductionChoiceTests {
    let ryczkoBytes = 248_000 * 8

    @Test func oneNodeTakesOneAllReduce() {
        let choice = ReductionChoice(layout: NodeLayout(nodes: 1, ranksPerNode: 4), gradientBytes: ryczkoBytes, hierarchicalEnabled: true)
        #expect(choice.mode == .single && choice.reason == "all ranks share one node")
    }

    @Test func nodesOfOneRankOverlapBuckets() {
        let choice = ReductionChoice(layout: NodeLayout(nodes: 2, ranksPerNode: 1), gradientBytes: ryczkoBytes, hierarchicalEnabled: true)
        #expect(choice.mode == .overlapped, "han has no node to group with one rank a node")
        #expect(choice.reason.contains("span nodes (2 nodes, up to 1 rank each)") && !choice.reason.contains("han"), "\(choice.reason)")
    }

    @Test func nodesOfSeveralRanksTakeHanWhenEnabledAndSaySoWhenNot() {
        let layout = NodeLayout(nodes: 3, ranksPerNode: 2)
        let enabled = ReductionChoice(layout: layout, gradientBytes: ryczkoBytes, hierarchicalEnabled: true)
        #expect(enabled.mode == .han && enabled.reason.contains("once per node"), "\(enabled.reason)")
        let disabled = ReductionChoice(layout: layout, gradientBytes: ryczkoBytes, hierarchicalEnabled: false)
        #expect(disabled.mode == .overlapped && disabled.reason.contains("coll_han_priority"), "\(disabled.reason)")
    }

    @Test func aGradientOfOneBucketTakesOneAllReduce() {
        let choice = ReductionChoice(layout: NodeLayout(nodes: 2, ranksPerNode: 1), gradientBytes: 90_000, hierarchicalEnabled: false)
        #expect(choice.mode == .single && choice.reason.contains("90000-byte gradient is one bucket"), "\(choice.reason)")
    }
}
