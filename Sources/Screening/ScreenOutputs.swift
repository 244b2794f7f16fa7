import Basics
import Foundation
import Reports

/// What `screen.json` records: the question, the rule, the space, the answer's summary.
public struct ScreenSummary: Codable, Sendable {
    public let runs: [String]
    public let objective: String
    public let kappa: Double
    public let rule: String
    public let sites: [String]
    public let elements: [String]
    public let spaceSize: Int
    public let scored: Int
    public let ranks: Int
    public let wallSeconds: Double
    public let scalingLine: ScalingLine?
    public let optimumOccupation: [String]?
    public let optimumObjective: Double?
    public let extrapolationSpreadLimit: Double
    public let flaggedInTop: Int
    /// The sample's size and seed when a sample was scored (nil: every candidate).
    public var sample: Int? = nil
    public var seed: UInt64? = nil
    /// What top-contributions.csv holds, or why it was not written.
    public var topContributions: String? = nil
}

/// The files of a screen, written atomically into its claimed output folder.
public struct ScreenOutputs {
    public let folder: RunFolder
    public let runs: [ScreenedRun]
    public let space: CandidateSpace
    public let check: ExtrapolationCheck

    public init(folder: RunFolder, runs: [ScreenedRun], space: CandidateSpace, check: ExtrapolationCheck) {
        self.folder = folder; self.runs = runs; self.space = space; self.check = check
    }

    /// `top.csv`: rank, one column per site, each run's mean and std, the objective, then its
    /// spread, the score ranked by, the candidate's index, and the extrapolation columns.
    public func writeTop(_ top: [ScoredCandidate]) throws {
        let runColumns = runs.count == 1 ? ["mean", "std"] : runs.flatMap { ["\($0.name)_mean", "\($0.name)_std"] }
        let header = ["rank"] + space.sites + runColumns + ["objective", "objective_std", "score", "index", "far_from_training", "flagged"]
        let rows = top.enumerated().map { rank, candidate -> [String] in
            let occupation = space.occupation(space.digits(of: candidate.index))
            let reasons = check.reasons(occupation, sites: space.sites)
            let flagged = check.isFlagged(occupation, sites: space.sites, objectiveStd: candidate.objectiveStd)
            return ["\(rank + 1)"] + occupation + zip(candidate.means, candidate.stds).flatMap { [tableNumber($0), tableNumber($1)] }
                + [tableNumber(candidate.objective), tableNumber(candidate.objectiveStd), tableNumber(candidate.score), "\(candidate.index)",
                   reasons.joined(separator: "; "), flagged ? "yes" : "no"]
        }
        try writeCSV(folder.file(.top), header: header, rows: rows)
    }

    /// `top-contributions.csv`: per top candidate and site, the element's share of the
    /// ensemble-mean objective's linear part (`shares`: `AdditiveObjective`, `AtomicSiteShares`
    /// or `SwapSiteShares`) and its first-order effect on the objective; `largest` marks the site
    /// whose element moves the objective most. Candidates `shares` gives nil for are left out.
    public func writeContributions(_ top: [ScoredCandidate],
                                   shares sharesOf: (Int, ScoredCandidate, [Int]) throws -> [(share: Double, effect: Double)]?) throws {
        var rows: [[String]] = []
        for (rank, candidate) in top.enumerated() {
            let digits = space.digits(of: candidate.index)
            let occupation = space.occupation(digits)
            guard let shares = try sharesOf(rank, candidate, digits) else { continue }
            let largest = shares.indices.max { abs(shares[$0].effect) < abs(shares[$1].effect) }
            for s in space.sites.indices {
                rows.append(["\(rank + 1)", space.sites[s], occupation[s], tableNumber(shares[s].share), tableNumber(shares[s].effect), s == largest ? "yes" : "no"])
            }
        }
        try writeCSV(folder.file(.topContributions), header: ["rank", "site", "element", "share", "objective_effect", "largest"], rows: rows)
    }

    /// `histogram.csv`: the objective over every candidate scored, in fixed bins.
    public func writeHistogram(_ histogram: ObjectiveHistogram) throws {
        let rows = histogram.counts.indices.map { [tableNumber(histogram.edge($0)), tableNumber(histogram.edge($0 + 1)), "\(histogram.counts[$0])"] }
        try writeCSV(folder.file(.histogram), header: ["low", "high", "count"], rows: rows)
    }

    /// `scaling.svg`: the training rows both runs hold, the top K by their ensemble means, and the
    /// fitted scaling line (two runs or more).
    public func writeScalingPlot(_ top: [ScoredCandidate], line: ScalingLine) throws {
        guard runs.count >= 2 else { return }
        let data = line.pairs.map { ($0[0], $0[1]) }
        let picks = top.map { ($0.means[0], $0.means[1]) }
        let xs = (data + picks).map(\.0)
        let low = xs.min() ?? 0, high = xs.max() ?? 1
        let fitted = [low, high].map { ($0, line.intercept + line.slope * $0) }
        let series = [PlotSeries(points: data, colour: SVGPlot.seriesColour(0)), PlotSeries(points: picks, colour: SVGPlot.seriesColour(1)),
                      PlotSeries(points: fitted, colour: "#444444", dashed: true, asLine: true)]
        let legend = [LegendEntry("training rows (both adsorbates, DFT)", colour: SVGPlot.seriesColour(0), mark: .dot),
                      LegendEntry("top \(top.count) candidates (ensemble means)", colour: SVGPlot.seriesColour(1), mark: .dot),
                      LegendEntry(String(format: "scaling line: %@ = %.3f + %.3f·%@", runs[1].name, line.intercept, line.slope, runs[0].name),
                                  colour: "#444444", mark: .dashedLine)]
        let svg = SVGPlot.scatter(title: "Candidates against the \(runs[0].name)–\(runs[1].name) scaling line",
                                  xLabel: "E(\(runs[0].name)) (eV)", yLabel: "E(\(runs[1].name)) (eV)", series: series, legend: legend)
        try writeAtomically(svg, to: folder.file(.scalingSVG))
    }

    public func writeSummary(_ summary: ScreenSummary) throws {
        try writeJSON(summary, to: folder.file(.summary))
    }
}
