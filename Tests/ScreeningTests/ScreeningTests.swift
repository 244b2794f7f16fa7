import Basics
import Foundation
import Testing
import TestSupport
@testable import Screening
import Structures

/// Random member tables for a small space: members × sites × elements, seeded.
func randomRun(name: String, sites: [String], elements: [String], members: Int, seed: UInt64, rows: [[String]] = []) -> ScreenedRun {
    var generator = SeededGenerator(seed: seed)
    let values = (0..<members).map { _ in sites.indices.map { _ in elements.indices.map { _ in generator.nextGaussian() * 0.3 } } }
    return ScreenedRun(name: name, tables: MemberTables(sites: sites, elements: elements, values: values), rows: rows,
                       energies: rows.map { _ in generator.nextGaussian() })
}

/// The space, the tables and the scan on spaces small enough to check by hand or by brute force.
struct ScreeningUnitTests {
    let sites = ["a", "b", "c", "d", "e", "f"]
    let elements = ["Co", "Cu", "Ni"]

    @Test func indexAndOccupationAreABijectionAndBlocksTileTheSpace() throws {
        let space = try CandidateSpace(sites: sites, elements: elements, fixed: ["c": "Ni"], allowedBySite: ["a": ["Co", "Cu"]])
        #expect(space.size == 2 * 3 * 1 * 3 * 3 * 3)
        var seen = Set<[String]>()
        for index in 0..<space.size {
            let digits = space.digits(of: index)
            #expect(space.index(of: digits) == index)
            let occupation = space.occupation(digits)
            #expect(occupation[2] == "Ni" && occupation[0] != "Ni")
            #expect(space.digits(of: occupation) == digits)
            seen.insert(occupation)
        }
        #expect(seen.count == space.size)
        for ranks in 1...5 {
            let blocks = (0..<ranks).map { space.block(rank: $0, of: ranks) }
            #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == space.size)
            #expect(zip(blocks, blocks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
            #expect((blocks.map(\.count).max() ?? 0) - (blocks.map(\.count).min() ?? 0) <= 1)
        }
    }

    /// Every candidate scored by explicit sums over members; the scan's top-1 at κ = 0 and the
    /// additive optimum (per-site choice, or the dynamic programme under a count window) agree
    /// with it, and a scan split into blocks merges to the whole scan's answer.
    @Test(arguments: ["min", "max", "scaling-departure", "weighted:1,-0.5"], [false, true])
    func additiveOptimumMatchesBruteForce(objectiveText: String, windowed: Bool) throws {
        let x = randomRun(name: "CO", sites: sites, elements: elements, members: 4, seed: 5)
        let y = randomRun(name: "COOH", sites: sites, elements: elements, members: 3, seed: 6)
        let windows = windowed ? [CandidateSpace.Window(element: "Cu", low: 2, high: 3)] : []
        let space = try CandidateSpace(sites: sites, elements: elements, windows: windows)
        let objective = try Objective(parsing: objectiveText)
        let line = ScalingLine(intercept: 0.2, slope: 0.7, pairs: [])
        let ranking = try Ranking(objective: objective, kappa: 0)
        let scorer = try Scorer(space: space, runs: [x, y], ranking: ranking, line: line)
        let additive = try AdditiveObjective(space: space, runs: [x, y], objective: objective, line: line)
        var best: (index: Int, value: Double)? = nil
        var inWindows = 0
        for index in 0..<space.size {
            let digits = space.digits(of: index)
            guard space.satisfiesWindows(digits) else { continue }
            inWindows += 1
            let means = try [x, y].map { run in Spread(try #require(run.tables).memberPredictions(digits)).mean }
            let value: Double
            switch objective {
            case .min, .max: value = means[0]
            case .weighted: value = means[0] - 0.5 * means[1]
            default: value = abs(means[1] - 0.2 - 0.7 * means[0])
            }
            if best == nil || (objective.largerIsBetter ? value > best!.value : value < best!.value) { best = (index, value) }
        }
        let bruteBest = try #require(best)
        var top = try TopKeeper(capacity: 5)
        var histogram = try ObjectiveHistogram(low: additive.objectiveRange.lowerBound, high: additive.objectiveRange.upperBound, bins: 17)
        let scored = scorer.scan(0..<space.size, top: &top, histogram: &histogram)
        #expect(scored == inWindows && histogram.total == inWindows)
        #expect(top.kept.first?.index == bruteBest.index)
        #expect(abs((top.kept.first?.objective ?? .nan) - bruteBest.value) < 1e-12)
        let optimum = try #require(additive.optimum())
        #expect(space.index(of: optimum.digits) == bruteBest.index, "additive optimum \(space.occupation(optimum.digits))")
        #expect(abs(optimum.objective - bruteBest.value) < 1e-9)
        // Three blocks, merged, give the same top and histogram as one scan.
        var parts: [TopKeeper] = [], histograms: [ObjectiveHistogram] = []
        for rank in 0..<3 {
            var partTop = try TopKeeper(capacity: 5)
            var partHistogram = try ObjectiveHistogram(low: histogram.low, high: histogram.high, bins: 17)
            _ = scorer.scan(space.block(rank: rank, of: 3), top: &partTop, histogram: &partHistogram)
            parts.append(partTop); histograms.append(partHistogram)
        }
        #expect(try TopKeeper.merged(parts, capacity: 5) == top)
        #expect(try ObjectiveHistogram.summed(histograms) == histogram)
    }

    /// The predictor seam (batched, as image models would be scored) gives the table scan's
    /// top K and histogram exactly, with a κ that uses the spread and a count window.
    @Test func batchedPredictorScanEqualsTheTableScan() throws {
        let x = randomRun(name: "CO", sites: sites, elements: elements, members: 4, seed: 7)
        let y = randomRun(name: "COOH", sites: sites, elements: elements, members: 2, seed: 8)
        let space = try CandidateSpace(sites: sites, elements: elements, windows: [.init(element: "Ni", low: 1, high: 4)])
        let scorer = try Scorer(space: space, runs: [x, y], ranking: Ranking(objective: .scalingDeparture, kappa: 1.5),
                                line: ScalingLine(intercept: -0.1, slope: 0.9, pairs: []))
        var tableTop = try TopKeeper(capacity: 7), batchedTop = try TopKeeper(capacity: 7)
        var tableHistogram = try ObjectiveHistogram(low: 0, high: 3, bins: 11), batchedHistogram = tableHistogram
        let tableCount = scorer.scan(0..<space.size, top: &tableTop, histogram: &tableHistogram)
        let batchedCount = try scorer.scanBatched(0..<space.size, predictors: [x.predictor, y.predictor], batch: 50,
                                                  top: &batchedTop, histogram: &batchedHistogram)
        #expect(tableCount == batchedCount && tableCount > 0 && tableCount < space.size)
        #expect(tableTop == batchedTop && tableHistogram == batchedHistogram)
    }

    @Test func kappaCountsTheSpreadAgainstACandidate() throws {
        let lowSpread = try Ranking(objective: .max, kappa: 2).score(objective: 1.0, std: 0.1)
        let highSpread = try Ranking(objective: .max, kappa: 2).score(objective: 1.1, std: 0.5)
        #expect(lowSpread > highSpread)
        #expect(try Ranking(objective: .min, kappa: 1).score(objective: -1.0, std: 0.3) < Ranking(objective: .min, kappa: 0).score(objective: -1.0, std: 0.3))
    }

    @Test func badRestrictionsAreRefusedWithTheOptionAndItsRange() throws {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "" } catch { return "\(error)" }
        }
        #expect(message { try CandidateSpace(sites: sites, elements: elements, fixed: ["z": "Co"]) }.contains("no site 'z'"))
        #expect(message { try CandidateSpace(sites: sites, elements: elements, fixed: ["a": "Fe"]) }.contains("Co, Cu, Ni"))
        #expect(message { try CandidateSpace(sites: sites, elements: elements, windows: [.init(element: "Cu", low: 3, high: 9)]) }.contains("≤ 6"))
        #expect(message { try CandidateSpace.parseWindows(["Cu=1"]) }.contains("ELEMENT=LOW:HIGH"))
        #expect(message { try CandidateSpace.parseFixed(["a=Co", "a=Cu"]) }.contains("each site once"))
        #expect(message { try Ranking(objective: .min, kappa: -1) }.contains("0.0...10.0"))
        #expect(message { try TopKeeper(capacity: 0) }.contains("1...\(TopKeeper.limit)"))
        #expect(message { try Objective(parsing: "target:abc") }.contains("allowed: min, max"))
    }

    /// Planted rows that never put Mo on the top site: a candidate with Mo there is far from the
    /// training rows, and flagged when its members disagree on it (large spread); a candidate
    /// like the training rows is neither.
    @Test func extrapolationFlagOnPlantedRows() throws {
        let truth = try PlantedTruth()
        let table = try SiteTable.parse(truth.siteTable(count: 400, seed: 9), file: "planted.csv")
        let rows = table.rows.map(\.elements).filter { $0[0] != "Mo" }
        let sites = truth.siteNames, elements = truth.elements
        guard let mo = elements.firstIndex(of: "Mo") else { Issue.record("no Mo in the planted elements"); return }
        // Members agree everywhere but on Mo at the top site, which the rows never show.
        let values = (0..<4).map { m in sites.indices.map { s in elements.indices.map { e in
            truth.contributions[s][e] + (s == 0 && e == mo ? 0.4 * Double(m) : 0)
        } } }
        let run = ScreenedRun(name: "COOH", tables: MemberTables(sites: sites, elements: elements, values: values), rows: rows,
                              energies: rows.map { _ in 0 })
        let space = try CandidateSpace(sites: sites, elements: elements)
        let scorer = try Scorer(space: space, runs: [run], ranking: Ranking(objective: .min, kappa: 0), line: nil)
        let check = try ExtrapolationCheck(runs: [run], scorer: scorer)
        var unseen = rows[0]; unseen[0] = "Mo"
        let spread = Spread(try #require(run.tables).memberPredictions(unseen.map { elements.firstIndex(of: $0) ?? 0 })).std
        #expect(check.reasons(unseen, sites: sites).contains { $0.contains("Mo at T/B1") })
        #expect(check.isFlagged(unseen, sites: sites, objectiveStd: spread))
        #expect(check.reasons(rows[1], sites: sites).isEmpty)
        #expect(!check.isFlagged(rows[1], sites: sites, objectiveStd: 0))
    }
}
