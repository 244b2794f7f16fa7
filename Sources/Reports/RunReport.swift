import Basics
import Decomposition
import Foundation
import Structures
import Training

/// One point of a learning curve.
public struct LearningPoint: Codable, Sendable {
    public let member: Int
    public let epoch: Int
    public let trainMAE: Double
    public let validationMAE: Double?
    public init(member: Int, epoch: Int, trainMAE: Double, validationMAE: Double?) {
        self.member = member; self.epoch = epoch; self.trainMAE = trainMAE; self.validationMAE = validationMAE
    }
}

/// One structure's ensemble prediction.
public struct EnsemblePrediction: Codable, Sendable {
    public let index: Int
    public let target: Double?
    public let mean: Double
    public let std: Double
    public let members: [Double]
    /// The structure's role in training (`DataRoles.labels`).
    public let split: String
    /// The 95 % interval (`IntervalCalibration`); nil with one member or no calibration.
    public let lo95: Double?
    public let hi95: Double?
    public init(index: Int, target: Double?, members: [Double], split: String, calibration: IntervalCalibration? = nil) {
        self.index = index
        self.split = split
        self.target = target
        self.members = members
        let spread = Spread(members)
        self.mean = spread.mean
        self.std = spread.std
        let half = calibration?.halfWidth(std: spread.std)
        lo95 = half.map { spread.mean - $0 }
        hi95 = half.map { spread.mean + $0 }
    }
}

/// Writes the tables and plots of a run into its folder (names from `RunFolder.Output`).
public enum RunReport {
    /// The files `write` writes.
    public static let decompositionOutputs: [RunFolder.Output] = [.decompositionCSV, .decompositionJSON, .decompositionMembersCSV,
                                                                   .siteInfluenceCSV, .siteInfluenceSVG, .elementSiteSVG]

    /// `decompositionOutputs`: the table as CSV and JSON, site influence as CSV and SVG, the element × site plot.
    public static func write(_ d: Decomposition, to folder: RunFolder) throws {
        // A column only where the method defines it (`count`: the swaps), none left empty.
        let counted = d.entries.contains { $0.count != nil }
        let rows = d.entries.map { e in
            [e.site, e.element, tableNumber(e.contribution.mean), tableNumber(e.contribution.std), "\(e.contribution.members)"]
                + (counted ? [e.count.map(String.init) ?? "0"] : []) + [d.exactness.rawValue]
        }
        try writeCSV(folder.file(.decompositionCSV),
                     header: ["site", "element", "mean", "std", "members"] + (counted ? ["count"] : []) + ["exactness"], rows: rows)
        // Each member's table beside the mean and spread: one column per member, by its number.
        let numbers = d.memberNumbers.isEmpty ? Array(0..<(d.entries.first?.memberValues?.count ?? 0)) : d.memberNumbers
        try writeCSV(folder.file(.decompositionMembersCSV), header: ["site", "element"] + numbers.map { "member_\($0)" },
                     rows: d.entries.map { e in [e.site, e.element] + (e.memberValues ?? []).map { $0.map(tableNumber) ?? "" } })
        try writeCSV(folder.file(.siteInfluenceCSV),
                     header: ["site", "influence_mean", "influence_std", "element_spread_mean", "element_spread_std", "rank_agreement_tau", "members", "exactness"],
                     rows: d.summaries.map { [$0.site, tableNumber($0.influence.mean), tableNumber($0.influence.std),
                                              tableNumber($0.elementSpread.mean), tableNumber($0.elementSpread.std),
                                              $0.rankAgreement.map(tableNumber) ?? "", "\($0.influence.members)", d.exactness.rawValue] })
        try writeJSON(d, to: folder.file(.decompositionJSON))
        // site-influence.svg (its name is the run folder's) shows the identified element spread Δ(s),
        // not the influence I(s), which depends on where a member puts its constant (Method.md).
        let members = d.summaries.first?.elementSpread.members ?? 0
        try writeAtomically(SVGPlot.bars(title: "Element spread per site, \(d.kind.rawValue) model, \(members) member\(members == 1 ? "" : "s")",
                                         subtitle: "Δ(s) = max − min over elements of c(s, e); bar: mean over members, whisker: ± std",
                                         labels: d.summaries.map(\.site), values: d.summaries.map(\.elementSpread.mean),
                                         errors: d.summaries.map(\.elementSpread.std), yLabel: "element spread Δ(s) (eV)"),
                            to: folder.file(.siteInfluenceSVG))
        let grid = d.sites.map { site in d.elements.map { d.entry(site: site, element: $0)?.contribution.mean } }
        // Centre each site's row: only differences between elements at a site are identifiable.
        let centred = grid.map { row -> [Double?] in
            let present = row.compactMap { $0 }
            let mean = present.reduce(0, +) / Double(max(present.count, 1))
            return row.map { $0.map { $0 - mean } }
        }
        try writeAtomically(SVGPlot.heatmap(title: "Element contribution by site, centred per site",
                                            rows: d.sites, columns: d.elements, values: centred),
                            to: folder.file(.elementSiteSVG))
    }

    /// parity.svg and predictions.csv: ensemble mean against target, the subtitle naming the
    /// errors and the set they are of (the test set when there is one).
    public static func writeParity(_ predictions: [EnsemblePrediction], to folder: RunFolder, title: String, test: TestMetrics?,
                                   memberNumbers: [Int]? = nil) throws {
        let tested = predictions.filter { $0.split == "test" && $0.target != nil }
        let trained = predictions.filter { $0.split != "test" && $0.target != nil }
        let colours = (trained: SVGPlot.seriesColour(0), tested: SVGPlot.seriesColour(1))
        var series: [PlotSeries] = [], legend: [LegendEntry] = []
        if !trained.isEmpty {
            series.append(PlotSeries(points: trained.compactMap { p in p.target.map { ($0, p.mean) } }, colour: colours.trained))
            legend.append(LegendEntry("trained on (by at least one member)", colour: colours.trained, mark: .dot))
        }
        if !tested.isEmpty {
            series.append(PlotSeries(points: tested.compactMap { p in p.target.map { ($0, p.mean) } }, colour: colours.tested))
            legend.append(LegendEntry("test set (no member saw it)", colour: colours.tested, mark: .dot))
        }
        try writeAtomically(SVGPlot.scatter(title: title, subtitle: paritySubtitle(test: test, trained: trained), xLabel: "target (eV)",
                                            yLabel: "ensemble mean prediction (eV)", series: series, legend: legend, diagonal: true),
                            to: folder.file(.paritySVG))
        try writePredictions(predictions, to: folder.file(.predictionsCSV), memberNumbers: memberNumbers)
    }

    /// The errors of the ensemble mean: on the test set, or, without one, on the trained-on
    /// structures, said as such (they do not measure generalisation).
    static func paritySubtitle(test: TestMetrics?, trained: [EnsemblePrediction]) -> String? {
        func eV(_ x: Double) -> String { String(format: "%.4g", x) }
        if let test {
            return "test set (\(test.structures) structures no member saw): MAE \(eV(test.ensembleMean.mae)) eV, RMSE \(eV(test.ensembleMean.rmse)) eV"
        }
        let check = PredictionCheck(trained, trained: [])
        guard let mae = check.mae, let rmse = check.rmse else { return nil }
        return "no test set; on the \(check.targetCount) trained-on structures: MAE \(eV(mae)) eV, RMSE \(eV(rmse)) eV"
    }

    /// predictions.csv: each structure's mean, spread, 95 % interval (empty without one) and every
    /// member's prediction, the columns named by `memberNumbers` (default 0, 1, ...: a run that
    /// left members out names the kept ones).
    public static func writePredictions(_ predictions: [EnsemblePrediction], to url: URL, memberNumbers: [Int]? = nil) throws {
        let numbers = memberNumbers ?? Array(0..<(predictions.first?.members.count ?? 0))
        try writeCSV(url, header: ["structure", "split", "target", "mean", "std", "lo95", "hi95"] + numbers.map { "member_\($0)" },
                     rows: predictions.map { p in ["\(p.index + 1)", p.split, p.target.map(tableNumber) ?? "", tableNumber(p.mean), tableNumber(p.std),
                                                   p.lo95.map(tableNumber) ?? "", p.hi95.map(tableNumber) ?? ""]
                         + p.members.map(tableNumber) })
    }

    /// learning-curve.svg: train (solid) and validation (dashed) MAE of every member by epoch, one
    /// colour per member. Members are kept apart rather than drawn as a band: which member
    /// diverges or stops early (`--patience`) is what a reader looks for, and ensembles are small.
    public static func writeLearningCurve(_ points: [LearningPoint], to folder: RunFolder) throws {
        let members = Set(points.map(\.member)).sorted()
        var series: [PlotSeries] = [], legend: [LegendEntry] = []
        for (k, m) in members.enumerated() {
            let colour = SVGPlot.seriesColour(k)
            let mine = points.filter { $0.member == m }.sorted { $0.epoch < $1.epoch }
            series.append(PlotSeries(points: mine.map { (Double($0.epoch), $0.trainMAE) }, colour: colour))
            let validation = mine.compactMap { p in p.validationMAE.map { (Double(p.epoch), $0) } }
            if !validation.isEmpty { series.append(PlotSeries(points: validation, colour: colour, dashed: true)) }
            legend.append(LegendEntry("member \(m)", colour: colour, mark: .line))
        }
        legend += [LegendEntry("train", colour: "black", mark: .line), LegendEntry("validation", colour: "black", mark: .dashedLine)]
        try writeAtomically(SVGPlot.scatter(title: "Learning curve, \(members.count) member\(members.count == 1 ? "" : "s")",
                                            xLabel: "epoch", yLabel: "MAE (eV)", series: series, legend: legend, connect: true),
                            to: folder.file(.learningCurveSVG))
    }
}
