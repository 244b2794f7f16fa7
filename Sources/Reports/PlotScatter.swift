import Foundation

/// Points drawn in one colour: dots, or a line (dashed when `dashed`) through them.
public struct PlotSeries: Sendable {
    public let points: [(Double, Double)]
    public let colour: String
    public let dashed: Bool
    /// A line through the points even when the plot draws dots (a fitted line among data).
    public let asLine: Bool
    public init(points: [(Double, Double)], colour: String, dashed: Bool = false, asLine: Bool = false) {
        self.points = points; self.colour = colour; self.dashed = dashed; self.asLine = asLine
    }
}

/// One legend entry: a mark in the entry's colour, then its text.
public struct LegendEntry: Sendable {
    public enum Mark: Sendable { case dot, line, dashedLine }
    public let text: String
    public let colour: String
    public let mark: Mark
    public init(_ text: String, colour: String, mark: Mark) { self.text = text; self.colour = colour; self.mark = mark }
}

extension SVGPlot {
    /// Colours that stay apart from each other (a qualitative palette of ten); beyond ten, hues a
    /// golden angle apart, so any number of series keep distinct colours.
    public static func seriesColour(_ k: Int) -> String {
        let palette = ["#4e79a7", "#f28e2b", "#e15759", "#59a14f", "#b07aa1", "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#6b6b6b"]
        if k < palette.count { return palette[k] }
        let hue = (Double(k - palette.count) * 137.508 + 15).truncatingRemainder(dividingBy: 360)
        return "hsl(\(Int(hue)),65%,\(k % 2 == 0 ? 40 : 55)%)"
    }

    static let legendRowHeight = 18.0, legendMarkWidth = 22.0, legendGap = 18.0

    /// Where each legend entry goes: its row and its x offset from the legend's left edge, in
    /// rows no wider than `width` (an entry wider than that takes a row of its own).
    static func legendLayout(_ entries: [LegendEntry], width: Double) -> [(row: Int, x: Double)] {
        var placed: [(row: Int, x: Double)] = []
        var row = 0, x = 0.0
        for entry in entries {
            let w = legendMarkWidth + 6 + textWidth(entry.text)
            if x > 0 && x + w > width { row += 1; x = 0 }
            placed.append((row, x))
            x += w + legendGap
        }
        return placed
    }

    static func legend(_ entries: [LegendEntry], layout: [(row: Int, x: Double)], left: Double, top: Double) -> String {
        var s = ""
        for (entry, place) in zip(entries, layout) {
            let x = left + place.x, y = top + legendRowHeight * Double(place.row) + 12
            switch entry.mark {
            case .dot: s += "<circle cx=\"\(x + legendMarkWidth / 2)\" cy=\"\(y - 4)\" r=\"3.5\" fill=\"\(entry.colour)\"/>"
            case .line, .dashedLine:
                let dash = entry.mark == .dashedLine ? " stroke-dasharray=\"5 3\"" : ""
                s += "<line x1=\"\(x)\" y1=\"\(y - 4)\" x2=\"\(x + legendMarkWidth)\" y2=\"\(y - 4)\" stroke=\"\(entry.colour)\" stroke-width=\"2\"\(dash)/>"
            }
            s += "<text x=\"\(x + legendMarkWidth + 6)\" y=\"\(y)\">\(escape(entry.text))</text>\n"
        }
        return s
    }

    /// Point series (x, y) with a y = x line when `diagonal`, or lines when `connect`; the legend
    /// in rows below the x axis label, the subtitle (e.g. the errors) under the title.
    public static func scatter(title: String, subtitle: String? = nil, xLabel: String, yLabel: String, series: [PlotSeries],
                               legend entries: [LegendEntry], diagonal: Bool = false, connect: Bool = false) -> String {
        let all = series.flatMap(\.points).filter { $0.0.isFinite && $0.1.isFinite }
        var xLow = all.map(\.0).min() ?? 0, xHigh = all.map(\.0).max() ?? 1
        var yLow = all.map(\.1).min() ?? 0, yHigh = all.map(\.1).max() ?? 1
        if diagonal { xLow = min(xLow, yLow); yLow = xLow; xHigh = max(xHigh, yHigh); yHigh = xHigh }
        if xHigh <= xLow { xHigh = xLow + 1 }
        if yHigh <= yLow { yHigh = yLow + 1 }
        let pad = (yHigh - yLow) * 0.05
        yLow -= pad; yHigh += pad
        let xTicks = ticks(xLow, xHigh), yTicks = ticks(yLow, yHigh)
        var f = Frame(title: title, subtitle: subtitle)
        f.left = yAxisMargin(yTicks)
        f.right = max(20, (xTicks.map { textWidth(label($0)) }.max() ?? 0) / 2 + 6)
        f.fitWidth(f.left + f.right + (entries.map { legendMarkWidth + 6 + textWidth($0.text) }.max() ?? 0))
        let layout = legendLayout(entries, width: f.plotWidth)
        let legendRows = (layout.map(\.row).max() ?? -1) + 1
        f.bottom = 44 + legendRowHeight * Double(legendRows) + 6
        let plotHeight = axisHeight(yLabel: yLabel)
        f.setPlotHeight(plotHeight)
        func x(_ v: Double) -> Double { f.left + (v - xLow) / (xHigh - xLow) * f.plotWidth }
        func y(_ v: Double) -> Double { f.top + (yHigh - v) / (yHigh - yLow) * plotHeight }
        var body = axes(f, xLabel: xLabel, xLabelY: f.plotBottom + 34, yLabel: yLabel, yTicks: yTicks, y: y)
        for t in xTicks {
            body += "<text x=\"\(x(t))\" y=\"\(f.plotBottom + 16)\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        if diagonal {
            body += "<line x1=\"\(x(xLow))\" y1=\"\(y(xLow))\" x2=\"\(x(xHigh))\" y2=\"\(y(xHigh))\" stroke=\"grey\" stroke-dasharray=\"4 3\"/>\n"
        }
        for s in series {
            let points = s.points.filter { $0.0.isFinite && $0.1.isFinite }
            if connect || s.asLine {
                let dash = s.dashed ? " stroke-dasharray=\"5 3\"" : ""
                body += "<polyline fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"1.5\"\(dash) points=\""
                    + points.map { "\(x($0.0)),\(y($0.1))" }.joined(separator: " ") + "\"/>\n"
            } else {
                for p in points { body += "<circle cx=\"\(x(p.0))\" cy=\"\(y(p.1))\" r=\"2.5\" fill=\"\(s.colour)\" fill-opacity=\"0.7\"/>" }
                body += "\n"
            }
        }
        body += legend(entries, layout: layout, left: f.left, top: f.plotBottom + 44)
        return document(f, body)
    }
}
