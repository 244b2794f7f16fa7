import Foundation
import Testing
@testable import Benchmarks
@testable import Training

/// The table type every benchmark fills, and the figures `bench scaling` reads off a run's metrics.
struct TableTests {
    @Test func linesArePaddedToTheColumnWidthsAndCellsAreFoundByColumn() {
        var table = BenchmarkTable(columns: ["a", "bb"], widths: [4, 3])
        #expect(table.header == "a   bb ")
        #expect(table.append(["1", "2"]) == "1   2  ")
        table.append(["3"])
        #expect(table.cells(of: "bb") == ["2", nil])
        #expect(table.cells(of: "c") == nil)
    }

    @Test func markdownHasTheHeaderTheSeparatorAndARowPerLine() {
        var table = BenchmarkTable(columns: ["model", "MAE"], width: 0)
        table.append(["x", "0.1"])
        #expect(table.markdown == "| model | MAE |\n|---|---|\n| x | 0.1 |")
    }

    @Test func scalingSkipsEachMembersFirstEpochAndSumsMembers() throws {
        func epoch(_ member: Int, _ epoch: Int, rate: Double, seconds: Double, share: Double) -> EpochMetrics {
            EpochMetrics(member: member, epoch: epoch, trainMSE: 0, trainMAE: 0, validationMSE: nil, validationMAE: nil,
                         seconds: seconds, samplesPerSecond: rate, allReduceShare: share)
        }
        // Member 0: the warm-up (epoch 1) is dropped; epochs 2 and 3 are weighted by their seconds.
        let metrics = [epoch(0, 1, rate: 1, seconds: 9, share: 0.9), epoch(0, 3, rate: 40, seconds: 3, share: 0.2),
                       epoch(0, 2, rate: 20, seconds: 1, share: 0.6), epoch(1, 1, rate: 7, seconds: 1, share: 0.1)]
        let figures = try #require(ScalingBenchmark.timedFigures(metrics))
        // (20·1 + 40·3) / 4 = 35, plus member 1's only epoch (7).
        #expect(figures.rate == 42)
        #expect(abs(figures.share - 0.3) < 1e-12)  // max(0.3, 0.1)
        #expect(ScalingBenchmark.timedFigures([]) == nil)
    }
}
