import Foundation

/// Small, dependency-free SVG charts for the run directory. The canvas and every margin are
/// computed from the labels' estimated widths (`textWidth`), so no label leaves the viewBox.
public enum SVGPlot {
    static let fontSize = 12.0, titleSize = 15.0
    /// Estimated advance of one character, in units of the font size: above a sans-serif font's
    /// mean over letters and digits (about 0.55), so the estimate errs towards room.
    static let characterWidth = 0.62
    /// The plot area's height in every chart but a tall heatmap.
    static let plotHeight = 300.0

    static func textWidth(_ text: String, size: Double = fontSize) -> Double { Double(text.count) * characterWidth * size }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The canvas and the plot area inside it (margins in px).
    struct Frame {
        var width = 640.0, height = 420.0
        var left = 70.0, right = 20.0, top = 40.0, bottom = 80.0
        let title: String, subtitle: String?
        var plotWidth: Double { width - left - right }
        var plotBottom: Double { height - bottom }

        /// A frame whose header holds the title (and the subtitle on a line below it).
        init(title: String, subtitle: String? = nil) {
            self.title = title
            self.subtitle = subtitle
            if subtitle != nil { top = 56 }
            fitWidth(SVGPlot.textWidth(title, size: SVGPlot.titleSize) + 20)
            if let subtitle { fitWidth(SVGPlot.textWidth(subtitle) + 20) }
        }

        mutating func fitWidth(_ needed: Double) { width = max(width, needed.rounded(.up)) }

        /// The height for a plot area of `plotHeight` with the current top and bottom margins.
        mutating func setPlotHeight(_ plotHeight: Double) { height = (top + plotHeight + bottom).rounded(.up) }
    }

    static func document(_ frame: Frame, _ body: String) -> String {
        let (w, h) = (Int(frame.width.rounded(.up)), Int(frame.height.rounded(.up)))
        var header = "<text x=\"\(frame.width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"\(Int(titleSize))\">\(escape(frame.title))</text>\n"
        if let subtitle = frame.subtitle {
            header += "<text x=\"\(frame.width / 2)\" y=\"41\" text-anchor=\"middle\">\(escape(subtitle))</text>\n"
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(w)" height="\(h)" viewBox="0 0 \(w) \(h)" font-family="sans-serif" font-size="\(Int(fontSize))">
        <rect width="100%" height="100%" fill="white"/>
        \(header)\(body)
        </svg>

        """
    }

    /// "Nice" tick values covering [low, high].
    static func ticks(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
        guard high > low else { return [low] }
        let raw = (high - low) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var values: [Double] = []
        var v = ceil(low / step) * step
        while v <= high + step * 1e-9 { values.append(v); v += step }
        return values
    }

    /// A tick label: whole numbers as such (1000, not 1e+03), others with three significant digits.
    static func label(_ v: Double) -> String {
        if v == 0 { return "0" }  // not "-0" for a tick that lands on −0.0
        return v == v.rounded() && abs(v) < 1e7 ? String(format: "%.0f", v) : String(format: "%.3g", v)
    }

    /// The left margin that holds the y tick labels (ending 6 px left of the axis) and, left of
    /// them, the rotated axis label (centred 16 px from the edge).
    static func yAxisMargin(_ yTicks: [Double]) -> Double {
        max(60, (yTicks.map { textWidth(label($0)) }.max() ?? 0) + 34)
    }

    /// The plot area's height: the standard one, or more when the y label along the axis is longer.
    static func axisHeight(yLabel: String) -> Double { max(plotHeight, textWidth(yLabel) + 8) }

    static func axes(_ f: Frame, xLabel: String, xLabelY: Double, yLabel: String, yTicks: [Double], y: (Double) -> Double) -> String {
        var s = "<line x1=\"\(f.left)\" y1=\"\(f.top)\" x2=\"\(f.left)\" y2=\"\(f.plotBottom)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(f.left)\" y1=\"\(f.plotBottom)\" x2=\"\(f.width - f.right)\" y2=\"\(f.plotBottom)\" stroke=\"black\"/>\n"
        for t in yTicks {
            s += "<line x1=\"\(f.left - 4)\" y1=\"\(y(t))\" x2=\"\(f.left)\" y2=\"\(y(t))\" stroke=\"black\"/>"
            s += "<text x=\"\(f.left - 6)\" y=\"\(y(t) + 4)\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        s += "<text x=\"\(f.left + f.plotWidth / 2)\" y=\"\(xLabelY)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(16,\((f.top + f.plotBottom) / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        return s
    }

    /// Bars with ± error bars, in the given order; the labels below them turned by 35°.
    public static func bars(title: String, subtitle: String? = nil, labels: [String], values: [Double], errors: [Double], yLabel: String) -> String {
        let high = max(zip(values, errors).map { $0 + $1 }.max() ?? 1, 1e-12)
        let low = min(0, zip(values, errors).map { $0 - $1 }.min() ?? 0)
        let yTicks = ticks(low, high)
        let angle = 35.0 * Double.pi / 180
        let widest = labels.map { textWidth($0) }.max() ?? 0
        var f = Frame(title: title, subtitle: subtitle)
        f.left = yAxisMargin(yTicks)
        // A turned label runs down and right from 14 px below its bar; the axis label sits below the lowest.
        f.bottom = max(80, 14 + sin(angle) * widest + 4 + fontSize * cos(angle) + 30)
        f.fitWidth(f.left + f.right + Double(labels.count) * 28)
        f.right = barsRightMargin(f, reaches: labels.map { cos(angle) * textWidth($0) + 8 })
        let plotHeight = axisHeight(yLabel: yLabel)
        f.setPlotHeight(plotHeight)
        func y(_ v: Double) -> Double { f.top + (high - v) / (high - low) * plotHeight }
        let slot = f.plotWidth / Double(max(labels.count, 1))
        var body = axes(f, xLabel: "site", xLabelY: f.height - 10, yLabel: yLabel, yTicks: yTicks, y: y)
        for (i, label) in labels.enumerated() {
            let x = f.left + slot * Double(i) + slot * 0.15
            let w = slot * 0.7
            body += "<rect x=\"\(x)\" y=\"\(min(y(values[i]), y(0)))\" width=\"\(w)\" height=\"\(abs(y(values[i]) - y(0)))\" fill=\"#4878a8\"/>\n"
            let cx = x + w / 2
            body += "<line x1=\"\(cx)\" y1=\"\(y(values[i] - errors[i]))\" x2=\"\(cx)\" y2=\"\(y(values[i] + errors[i]))\" stroke=\"black\"/>"
            body += "<line x1=\"\(cx - 5)\" y1=\"\(y(values[i] + errors[i]))\" x2=\"\(cx + 5)\" y2=\"\(y(values[i] + errors[i]))\" stroke=\"black\"/>"
            body += "<line x1=\"\(cx - 5)\" y1=\"\(y(values[i] - errors[i]))\" x2=\"\(cx + 5)\" y2=\"\(y(values[i] - errors[i]))\" stroke=\"black\"/>\n"
            body += "<text transform=\"translate(\(cx),\(f.plotBottom + 14)) rotate(35)\">\(escape(label))</text>\n"
        }
        return document(f, body)
    }

    /// The right margin at which every turned label (starting at its bar's centre and reaching
    /// `reaches[i]` to the right) ends inside the canvas; growing the margin narrows the bars, so
    /// it is found by a few steps, falling back to the widest reach.
    static func barsRightMargin(_ frame: Frame, reaches: [Double]) -> Double {
        var f = frame
        let n = Double(max(reaches.count, 1))
        for _ in 0..<8 {
            let slot = f.plotWidth / n
            let needed = reaches.enumerated().map { i, reach in reach - slot * (n - Double(i) - 0.5) }.max() ?? 0
            if needed <= f.right { return f.right }
            f.right = needed + 1
        }
        return max(f.right, reaches.max() ?? 0)
    }

    /// A rows × columns heatmap on a blue–white–red scale centred on zero, values printed in
    /// cells. Cells widen (and the canvas with them) until column labels and values fit.
    public static func heatmap(title: String, rows: [String], columns: [String], values: [[Double?]]) -> String {
        let flat = values.flatMap { $0.compactMap { $0 } }
        let extent = max(flat.map(abs).max() ?? 1, 1e-12)
        let caption = "contribution (eV); red above, blue below zero; scale ±\(String(format: "%.3g", extent))"
        var f = Frame(title: title)
        f.left = max(40, (rows.map { textWidth($0) }.max() ?? 0) + 16)
        f.bottom = 64  // column labels, then the caption
        f.fitWidth(textWidth(caption) + 20)
        let valueWidth = textWidth("-0.000", size: 10) + 6
        let columnLabelWidth = (columns.map { textWidth($0) }.max() ?? 0) + 8
        var cellWidth = max((f.width - f.left - f.right) / Double(max(columns.count, 1)), valueWidth, columnLabelWidth)
        f.fitWidth(f.left + f.right + cellWidth * Double(columns.count))
        cellWidth = max(cellWidth, f.plotWidth / Double(max(columns.count, 1)))
        let cellHeight = max(plotHeight / Double(max(rows.count, 1)), 18)
        f.setPlotHeight(cellHeight * Double(rows.count))
        var body = ""
        for (r, row) in rows.enumerated() {
            let rowY = f.top + cellHeight * (Double(r) + 0.5) + 4
            body += "<text x=\"\(f.left - 6)\" y=\"\(rowY)\" text-anchor=\"end\">\(escape(row))</text>\n"
            for c in columns.indices {
                guard let v = values[r][c] else { continue }
                let t = v / extent  // −1 … 1
                let (red, green, blue) = t >= 0 ? (255.0, 255 * (1 - t), 255 * (1 - t)) : (255 * (1 + t), 255 * (1 + t), 255.0)
                body += "<rect x=\"\(f.left + cellWidth * Double(c))\" y=\"\(f.top + cellHeight * Double(r))\" width=\"\(cellWidth)\" height=\"\(cellHeight)\" fill=\"rgb(\(Int(red)),\(Int(green)),\(Int(blue)))\" stroke=\"white\"/>"
                body += "<text x=\"\(f.left + cellWidth * (Double(c) + 0.5))\" y=\"\(rowY)\" text-anchor=\"middle\" font-size=\"10\">\(String(format: "%.3f", v))</text>\n"
            }
        }
        for (c, column) in columns.enumerated() {
            body += "<text x=\"\(f.left + cellWidth * (Double(c) + 0.5))\" y=\"\(f.plotBottom + 16)\" text-anchor=\"middle\">\(escape(column))</text>\n"
        }
        body += "<text x=\"\(f.width / 2)\" y=\"\(f.height - 14)\" text-anchor=\"middle\">\(escape(caption))</text>\n"
        return document(f, body)
    }
}
