import Basics
import Decomposition
import Foundation
import Structures

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
    public init(index: Int, target: Double?, members: [Double], split: String) {
        self.index = index
        self.split = split
        self.target = target
        self.members = members
        let spread = Spread(members)
        self.mean = spread.mean
        self.std = spread.std
    }
}

/// Writes the tables and plots of a run into its folder (names from `RunFolder.Output`).
public enum RunReport {
    /// The files `write` writes.
    public static let decompositionOutputs: [RunFolder.Output] = [.decompositionCSV, .decompositionJSON, .siteInfluenceCSV,
                                                                   .siteInfluenceSVG, .elementSiteSVG]

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
        try writeCSV(folder.file(.siteInfluenceCSV),
                     header: ["site", "influence_mean", "influence_std", "element_spread_mean", "element_spread_std", "members", "exactness"],
                     rows: d.summaries.map { [$0.site, tableNumber($0.influence.mean), tableNumber($0.influence.std),
                                              tableNumber($0.elementSpread.mean), tableNumber($0.elementSpread.std), "\($0.influence.members)", d.exactness.rawValue] })
        try writeJSON(d, to: folder.file(.decompositionJSON))
        let members = d.summaries.first?.influence.members ?? 0
        try writeAtomically(SVGPlot.bars(title: "Site influence, \(d.kind.rawValue) model, \(members) member\(members == 1 ? "" : "s")",
                                         labels: d.summaries.map(\.site), values: d.summaries.map(\.elementSpread.mean),
                                         errors: d.summaries.map(\.elementSpread.std),
                                         yLabel: "element spread max−min c(s,e) (eV), ± std over members"),
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

    /// parity.svg and predictions.csv: ensemble mean against target.
    public static func writeParity(_ predictions: [EnsemblePrediction], to folder: RunFolder, title: String) throws {
        func points(_ test: Bool) -> [(Double, Double)] {
            predictions.filter { ($0.split == "test") == test }.compactMap { p in p.target.map { ($0, p.mean) } }
        }
        let series = [("trained on (by at least one member)", points(false)), ("test set (no member saw it)", points(true))]
        try writeAtomically(SVGPlot.scatter(title: title, xLabel: "target (eV)", yLabel: "ensemble mean prediction (eV)",
                                            series: series.filter { !$0.1.isEmpty }, diagonal: true),
                            to: folder.file(.paritySVG))
        try writePredictions(predictions, to: folder.file(.predictionsCSV))
    }

    public static func writePredictions(_ predictions: [EnsemblePrediction], to url: URL) throws {
        let memberCount = predictions.first?.members.count ?? 0
        try writeCSV(url, header: ["structure", "split", "target", "mean", "std"] + (0..<memberCount).map { "member_\($0)" },
                     rows: predictions.map { p in ["\(p.index + 1)", p.split, p.target.map(tableNumber) ?? "", tableNumber(p.mean), tableNumber(p.std)]
                         + p.members.map(tableNumber) })
    }

    /// learning-curve.svg: train and validation MAE of every member by epoch.
    public static func writeLearningCurve(_ points: [LearningPoint], to folder: RunFolder) throws {
        let members = Set(points.map(\.member)).sorted()
        var series: [(name: String, points: [(Double, Double)])] = []
        for m in members {
            let mine = points.filter { $0.member == m }
            series.append(("member \(m) train", mine.map { (Double($0.epoch), $0.trainMAE) }))
            let validation = mine.compactMap { p in p.validationMAE.map { (Double(p.epoch), $0) } }
            if !validation.isEmpty { series.append(("member \(m) validation", validation)) }
        }
        try writeAtomically(SVGPlot.scatter(title: "Learning curve", xLabel: "epoch", yLabel: "MAE (eV)", series: series, connect: true),
                            to: folder.file(.learningCurveSVG))
    }
}
