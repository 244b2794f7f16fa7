import Basics
import Foundation
import Networks
import Reports
import Testing
import TestSupport
@testable import Decomposition

/// A text element of an SVG and the box it is estimated to cover: characters × 0.6 × font size
/// wide, from 0.8 of the size above its baseline to 0.25 below, turned by its `rotate(...)`.
struct SVGText {
    let content: String
    let corners: [(x: Double, y: Double)]

    static func all(in svg: String) -> [SVGText] {
        let fontSize = number(in: svg, after: #"<svg[^>]*font-size=""#) ?? 12
        let pattern = try! NSRegularExpression(pattern: #"<text([^>]*)>([^<]*)</text>"#)
        return pattern.matches(in: svg, range: NSRange(svg.startIndex..., in: svg)).map { match in
            let attributes = String(svg[Range(match.range(at: 1), in: svg)!])
            let content = String(svg[Range(match.range(at: 2), in: svg)!])
                .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
            let size = number(in: attributes, after: #"font-size=""#) ?? fontSize
            let width = Double(content.count) * 0.6 * size
            let start: Double = attributes.contains("text-anchor=\"middle\"") ? -width / 2 : attributes.contains("text-anchor=\"end\"") ? -width : 0
            var origin = (x: number(in: attributes, after: #" x=""#) ?? 0, y: number(in: attributes, after: #" y=""#) ?? 0)
            if let tx = number(in: attributes, after: #"translate\("#), let ty = number(in: attributes, after: #"translate\([-0-9.e]+,"#) {
                origin = (origin.x + tx, origin.y + ty)
            }
            let angle = (number(in: attributes, after: #"rotate\("#) ?? 0) * Double.pi / 180
            let local = [(start, -0.8 * size), (start + width, -0.8 * size), (start, 0.25 * size), (start + width, 0.25 * size)]
            let corners = local.map { (u, v) in (x: origin.x + u * cos(angle) - v * sin(angle), y: origin.y + u * sin(angle) + v * cos(angle)) }
            return SVGText(content: content, corners: corners)
        }
    }

    /// The number right after the first match of `prefix`.
    static func number(in text: String, after prefix: String) -> Double? {
        guard let regex = try? NSRegularExpression(pattern: prefix + #"(-?[0-9.]+(e-?[0-9]+)?)"#),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let range = Range(match.range(at: 1), in: text) else { return nil }
        return Double(text[range])
    }
}

/// The SVG's viewBox size, and the texts whose estimated box leaves it.
func textsOutsideViewBox(_ svg: String) throws -> [String] {
    let regex = try NSRegularExpression(pattern: #"viewBox="0 0 ([0-9.]+) ([0-9.]+)""#)
    let match = try #require(regex.firstMatch(in: svg, range: NSRange(svg.startIndex..., in: svg)))
    let width = try #require(Double(svg[Range(match.range(at: 1), in: svg)!]))
    let height = try #require(Double(svg[Range(match.range(at: 2), in: svg)!]))
    return SVGText.all(in: svg).filter { text in
        text.corners.contains { $0.x < 0 || $0.y < 0 || $0.x > width || $0.y > height }
    }.map(\.content)
}

/// The run's plots (issue 20, item 6): errors on the parity plot, learning curves that stay
/// readable with many members, labels inside the canvas, and the spread plot named for what it shows.
struct PlotReportsTests {
    func folder() throws -> RunFolder { RunFolder(try temporaryFolder("sitelens-plots")) }

    /// 40 structures, every fourth in the test set, predicted by 3 members with errors that differ.
    func predictions() -> (predictions: [EnsemblePrediction], roles: DataRoles) {
        var generator = SeededGenerator(seed: 6)
        let test = (0..<40).filter { $0 % 4 == 0 }
        let roles = DataRoles(count: 40, test: test, members: [(train: (0..<40).filter { $0 % 4 != 0 }, validation: [])])
        let predictions = (0..<40).map { i -> EnsemblePrediction in
            let target = Double.random(in: -30 ... -10, using: &generator)
            let bias = i % 4 == 0 ? 0.3 : 0.01  // the test set is predicted worse than the trained-on data
            return EnsemblePrediction(index: i, target: target,
                                      members: (0..<3).map { _ in target + bias * Double.random(in: -1...1, using: &generator) }, split: roles.labels[i])
        }
        return (predictions, roles)
    }

    @Test func parityPlotCarriesTheTestSetErrors() throws {
        let (predictions, roles) = predictions()
        let test = try #require(TestMetrics(predictions, roles: roles))
        let run = try folder()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try RunReport.writeParity(predictions, to: run, title: "Parity", test: test)
        let svg = try String(contentsOf: run.file(.paritySVG), encoding: .utf8)
        let caption = try #require(SVGText.all(in: svg).first { $0.content.contains("MAE") }).content
        #expect(caption.hasPrefix("test set (\(test.structures) structures"))
        let mae = try #require(SVGText.number(in: caption, after: "MAE ")), rmse = try #require(SVGText.number(in: caption, after: "RMSE "))
        #expect(abs(mae - test.ensembleMean.mae) <= 1e-3 * test.ensembleMean.mae, "\(caption) vs \(test.ensembleMean)")
        #expect(abs(rmse - test.ensembleMean.rmse) <= 1e-3 * test.ensembleMean.rmse, "\(caption) vs \(test.ensembleMean)")
        #expect(try textsOutsideViewBox(svg).isEmpty)

        // Without a test set the errors are named as the trained-on structures'.
        let trainedOnly = predictions.map { EnsemblePrediction(index: $0.index, target: $0.target, members: $0.members, split: "m0:train") }
        try RunReport.writeParity(trainedOnly, to: run, title: "Parity", test: nil)
        let untested = try String(contentsOf: run.file(.paritySVG), encoding: .utf8)
        let fallback = try #require(SVGText.all(in: untested).first { $0.content.contains("MAE") }).content
        #expect(fallback.hasPrefix("no test set; on the 40 trained-on structures"))
    }

    @Test func learningCurveKeepsEightMembersApart() throws {
        let members = 8
        var points: [LearningPoint] = []
        for m in 0..<members {
            for e in 1...(20 + m) {
                let offset = 0.01 * Double(m)
                points.append(LearningPoint(member: m, epoch: e, trainMAE: 1 / Double(e) + offset, validationMAE: 1.2 / Double(e) + offset))
            }
        }
        let run = try folder()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try RunReport.writeLearningCurve(points, to: run)
        let svg = try String(contentsOf: run.file(.learningCurveSVG), encoding: .utf8)
        let lines = try NSRegularExpression(pattern: #"<polyline[^>]*stroke="([^"]+)"([^>]*)/>"#)
            .matches(in: svg, range: NSRange(svg.startIndex..., in: svg))
            .map { (colour: String(svg[Range($0.range(at: 1), in: svg)!]), dashed: svg[Range($0.range(at: 2), in: svg)!].contains("dasharray")) }
        let train = lines.filter { !$0.dashed }.map(\.colour), validation = lines.filter(\.dashed).map(\.colour)
        #expect(train.count == members && Set(train).count == members, "train colours \(train)")
        #expect(validation == train, "each member's validation curve in its train curve's colour")
        let texts = SVGText.all(in: svg).map(\.content)
        #expect((0..<members).allSatisfy { texts.contains("member \($0)") })
        #expect(try textsOutsideViewBox(svg).isEmpty, "legend or labels outside the canvas")
        // Colours stay distinct well past the palette.
        #expect(Set((0..<40).map(SVGPlot.seriesColour)).count == 40)
    }

    /// Long site names and many elements: every label of the heatmap and of the spread plot lies
    /// inside the canvas; the spread plot is titled and labelled as the element spread.
    @Test func labelsFitAndTheSpreadPlotIsNamedForWhatItShows() throws {
        let sites = ["B2/Nsur1", "T/B1", "hollow-fcc/subsurface-2nd-layer", "binding"]
        let elements = ["Pt", "Au", "Cu", "Ni", "Pd", "Ag", "Rh", "Ir", "Ru", "Os", "Re", "Co", "Fe", "Zn"]
        var generator = SeededGenerator(seed: 9)
        let tables: [[SiteElement: Double]] = (0..<2).map { _ in
            Dictionary(uniqueKeysWithValues: sites.flatMap { s in elements.map { (SiteElement(site: s, element: $0), Double.random(in: -1...1, using: &generator)) } })
        }
        let decomposition = SiteDecomposer.summarise(kind: .sites, exactness: .exact, method: "test", sites: sites, elements: elements,
                                                     perMember: tables, absolute: nil, counts: nil)
        let run = try folder()
        defer { try? FileManager.default.removeItem(at: run.url) }
        try RunReport.write(decomposition, to: run)
        for output in [RunFolder.Output.elementSiteSVG, .siteInfluenceSVG] {
            let svg = try String(contentsOf: run.file(output), encoding: .utf8)
            let texts = SVGText.all(in: svg).map(\.content)
            #expect(sites.allSatisfy(texts.contains), "\(output.rawValue) lacks a site label")
            let outside = try textsOutsideViewBox(svg)
            #expect(outside.isEmpty, "\(output.rawValue): \(outside)")
        }
        let heatmapTexts = SVGText.all(in: try String(contentsOf: run.file(.elementSiteSVG), encoding: .utf8)).map(\.content)
        #expect(elements.allSatisfy(heatmapTexts.contains))
        let spread = SVGText.all(in: try String(contentsOf: run.file(.siteInfluenceSVG), encoding: .utf8)).map(\.content)
        #expect(spread[0].hasPrefix("Element spread per site, sites model, 2 members"))
        #expect(spread.contains("element spread Δ(s) (eV)"))
        #expect(!spread.contains { $0.localizedCaseInsensitiveContains("influence") })
    }
}
