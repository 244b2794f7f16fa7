import Foundation
import Testing
import TestSupport
@testable import Benchmarks

/// `bench cluster`: the α–β cost model on hand-worked values, the skip when nodes cannot be
/// made, and a `--quick` run on 2 namespace nodes whose tables are checked for their rows and
/// for finite, positive figures (never for speed).
struct ClusterCostModelTests {
    @Test func theRingCostIsTwoStepsPerRankOfLatencyAndOfAShareOfTheBytes() {
        let link = LinkCost(alpha: 1, beta: 0.001)
        // 4 ranks: 2·3 steps of α, and 2·3/4 of 1000 bytes at β.
        #expect(link.ring(bytes: 1000, ranks: 4) == 6 + 1.5)
        #expect(link.ring(bytes: 1000, ranks: 1) == 0)
    }

    @Test func aFitRecoversTheLatencyAndBandwidthThatMadeTheTimes() throws {
        let made = LinkCost(alpha: 50e-6, beta: 8e-9)
        let sizes: [Double] = [4_096, 16_384, 1_048_576, 4_194_304]
        let fitted = try #require(LinkCost.fitted(bytes: sizes, seconds: sizes.map { made.ring(bytes: $0, ranks: 2) }, ranks: 2))
        #expect(abs(fitted.alpha - made.alpha) < 1e-9 && abs(fitted.beta - made.beta) < 1e-15, "\(fitted)")
        #expect(LinkCost.fitted(bytes: [8, 8], seconds: [1, 2], ranks: 2) == nil, "one size fits no line")
        // Behind a tbf burst of 256 KiB the small sizes pass at another link's speed (β 1e-9):
        // α comes from them, β from the sizes of 1 MiB and more.
        let fast = LinkCost(alpha: 50e-6, beta: 1e-9)
        let shaped = sizes.map { $0 < 262_144 ? fast.ring(bytes: $0, ranks: 2) : made.ring(bytes: $0, ranks: 2) }
        let split = try #require(LinkCost.fitted(bytes: sizes, seconds: shaped, ranks: 2, burst: 262_144))
        #expect(abs(split.alpha - made.alpha) < 1e-9 && abs(split.beta - made.beta) < 1e-15, "\(split)")
    }

    @Test func theHierarchicalModelReducesWithinNodesAndCrossesOncePerNode() {
        let model = ScalingProjection(computeSeconds: 1, gradientBytes: 1000, network: LinkCost(alpha: 1, beta: 0.001),
                                      node: LinkCost(alpha: 0.1, beta: 0.0001), ranksPerNode: 2)
        // 4 ranks on 2 nodes: two node passes of a 2-rank ring (each 2·0.1 + 1000·0.0001 = 0.3), one
        // network ring of 2 nodes (2·1 + 1000·0.001 = 3).
        #expect(abs(model.hierarchicalSeconds(ranks: 4) - (0.6 + 3)) < 1e-12)
        #expect(model.ringSeconds(ranks: 4) == 7.5)
        let step = model.step(allReduceSeconds: 1)
        #expect(step.seconds == 2 && step.efficiency == 0.5)
    }

    @Test func withoutNodesItSkipsSayingWhy() throws {
        final class Lines: @unchecked Sendable {
            let lock = NSLock()
            var all: [String] = []
        }
        let lines = Lines()
        let benchmark = ClusterBenchmark(.quick, launcher: SiteLensLauncher(executable: URL(fileURLWithPath: sitelens)),
                                         clusterScript: URL(fileURLWithPath: "/nonexistent/cluster"),
                                         log: { line in lines.lock.withLock { lines.all.append(line) } })
        #expect(try benchmark.run() == nil)
        #expect(lines.all.first?.hasPrefix("bench cluster: skipped: ") == true, "\(lines.all)")
    }
}

@Suite(.serialized, .enabled(if: Available.clusterNodes, "needs root, ip, tc, unshare and flock to make namespace nodes"))
struct ClusterBenchmarkRunTests {
    @Test func theQuickRunPrintsEveryTableWithPositiveFigures() throws {
        let run = try runProcess(sitelens, ["bench", "cluster", "--quick"], timeout: 600)
        #expect(run.status == 0, "\(run.stderr.suffix(1500))")
        let out = run.stdout
        let links = fixedWidthRows(out, columns: ["link", "alpha us", "beta ns/B", "GB/s", "gradient ms", "CPU part"])
        #expect(links.map { $0["link"] } == ["shared memory", "unlimited", "1gbit"], "\(out)")
        for row in links { #expect(leadingNumber(row["gradient ms"]).map { $0 > 0 && $0.isFinite } == true, "\(row)") }
        let trainings = fixedWidthRows(out, columns: ["link", "all-reduce", "precision", "samples/s", "step ms", "all-reduce ms", "share", "hidden"])
        #expect(trainings.map { $0["all-reduce"] } == ["single", "buckets"], "\(out)")
        for row in trainings {
            for column in ["samples/s", "step ms", "all-reduce ms"] { #expect(leadingNumber(row[column]).map { $0 > 0 && $0.isFinite } == true, "\(row)") }
            #expect(row["share"]?.hasSuffix("%") == true && row["hidden"]?.hasSuffix("%") == true, "\(row)")
        }
        let projection = fixedWidthRows(out, columns: ["link", "ranks", "ring step ms", "ring eff", "hier step ms", "hier eff"])
        #expect(projection.map { $0["ranks"] } == ["8", "64", "256", "1024"], "\(out)")
        for row in projection {
            for column in ["ring step ms", "hier step ms", "ring eff", "hier eff"] { #expect(leadingNumber(row[column]).map { $0 > 0 && $0.isFinite } == true, "\(row)") }
        }
        let check = fixedWidthRows(out, columns: ["nodes", "projected ms", "measured ms", "difference"])
        #expect(check.map { $0["nodes"] } == ["2"], "\(out)")
        #expect(check.first.flatMap { leadingNumber($0["measured ms"]) }.map { $0 > 0 } == true && check.first?["difference"]?.hasSuffix("%") == true, "\(out)")
    }
}
