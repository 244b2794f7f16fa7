import Foundation

/// Small, dependency-free SVG charts for the run directory.
public enum SVGPlot {
    static let width = 640.0, height = 420.0
    static let left = 70.0, right = 20.0, top = 40.0, bottom = 80.0

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func document(_ title: String, _ body: String) -> String {
        """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(width / 2)" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>
        \(body)
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
        v == v.rounded() && abs(v) < 1e7 ? String(format: "%.0f", v) : String(format: "%.3g", v)
    }

    static func axes(xLabel: String, yLabel: String, yLow: Double, yHigh: Double, y: (Double) -> Double) -> String {
        var s = "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"black\"/>\n"
        for t in ticks(yLow, yHigh) {
            s += "<line x1=\"\(left - 4)\" y1=\"\(y(t))\" x2=\"\(left)\" y2=\"\(y(t))\" stroke=\"black\"/>"
            s += "<text x=\"\(left - 6)\" y=\"\(y(t) + 4)\" text-anchor=\"end\">\(label(t))</text>\n"
        }
        s += "<text x=\"\((left + width - right) / 2)\" y=\"\(height - 10)\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
        s += "<text transform=\"translate(16,\((top + height - bottom) / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
        return s
    }

    /// Bars with ± error bars, in the given order.
    public static func bars(title: String, labels: [String], values: [Double], errors: [Double], yLabel: String) -> String {
        let high = max(zip(values, errors).map { $0 + $1 }.max() ?? 1, 1e-12)
        let low = min(0, zip(values, errors).map { $0 - $1 }.min() ?? 0)
        let plotHeight = height - top - bottom
        func y(_ v: Double) -> Double { top + (high - v) / (high - low) * plotHeight }
        let slot = (width - left - right) / Double(max(labels.count, 1))
        var body = axes(xLabel: "site", yLabel: yLabel, yLow: low, yHigh: high, y: y)
        for (i, label) in labels.enumerated() {
            let x = left + slot * Double(i) + slot * 0.15
            let w = slot * 0.7
            body += "<rect x=\"\(x)\" y=\"\(min(y(values[i]), y(0)))\" width=\"\(w)\" height=\"\(abs(y(values[i]) - y(0)))\" fill=\"#4878a8\"/>\n"
            let cx = x + w / 2
            body += "<line x1=\"\(cx)\" y1=\"\(y(values[i] - errors[i]))\" x2=\"\(cx)\" y2=\"\(y(values[i] + errors[i]))\" stroke=\"black\"/>"
            body += "<line x1=\"\(cx - 5)\" y1=\"\(y(values[i] + errors[i]))\" x2=\"\(cx + 5)\" y2=\"\(y(values[i] + errors[i]))\" stroke=\"black\"/>"
            body += "<line x1=\"\(cx - 5)\" y1=\"\(y(values[i] - errors[i]))\" x2=\"\(cx + 5)\" y2=\"\(y(values[i] - errors[i]))\" stroke=\"black\"/>\n"
            body += "<text transform=\"translate(\(cx),\(height - bottom + 14)) rotate(35)\">\(escape(label))</text>\n"
        }
        return document(title, body)
    }

    /// A rows × columns heatmap on a blue–white–red scale centred on zero, values printed in cells.
    public static func heatmap(title: String, rows: [String], columns: [String], values: [[Double?]]) -> String {
        let flat = values.flatMap { $0.compactMap { $0 } }
        let extent = max(flat.map(abs).max() ?? 1, 1e-12)
        let cellWidth = (width - left - right) / Double(max(columns.count, 1))
        let cellHeight = (height - top - bottom) / Double(max(rows.count, 1))
        var body = ""
        for (r, row) in rows.enumerated() {
            body += "<text x=\"\(left - 6)\" y=\"\(top + cellHeight * (Double(r) + 0.5) + 4)\" text-anchor=\"end\">\(escape(row))</text>\n"
            for (c, _) in columns.enumerated() {
                guard let v = values[r][c] else { continue }
                let t = v / extent  // −1 … 1
                let (red, green, blue) = t >= 0 ? (255.0, 255 * (1 - t), 255 * (1 - t)) : (255 * (1 + t), 255 * (1 + t), 255.0)
                body += "<rect x=\"\(left + cellWidth * Double(c))\" y=\"\(top + cellHeight * Double(r))\" width=\"\(cellWidth)\" height=\"\(cellHeight)\" fill=\"rgb(\(Int(red)),\(Int(green)),\(Int(blue)))\" stroke=\"white\"/>"
                body += "<text x=\"\(left + cellWidth * (Double(c) + 0.5))\" y=\"\(top + cellHeight * (Double(r) + 0.5) + 4)\" text-anchor=\"middle\" font-size=\"10\">\(String(format: "%.3f", v))</text>\n"
            }
        }
        for (c, column) in columns.enumerated() {
            body += "<text x=\"\(left + cellWidth * (Double(c) + 0.5))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(escape(column))</text>\n"
        }
        body += "<text x=\"\(width / 2)\" y=\"\(height - 20)\" text-anchor=\"middle\">contribution (eV); red above, blue below zero; scale ±\(String(format: "%.3g", extent))</text>\n"
        return document(title, body)
    }

    /// Named point series (x, y) with a y = x line when `diagonal`, or lines when `connect`.
    public static func scatter(title: String, xLabel: String, yLabel: String, series: [(name: String, points: [(Double, Double)])],
                               diagonal: Bool = false, connect: Bool = false) -> String {
        let all = series.flatMap(\.points).filter { $0.0.isFinite && $0.1.isFinite }
        var xLow = all.map(\.0).min() ?? 0, xHigh = all.map(\.0).max() ?? 1
        var yLow = all.map(\.1).min() ?? 0, yHigh = all.map(\.1).max() ?? 1
        if diagonal { xLow = min(xLow, yLow); yLow = xLow; xHigh = max(xHigh, yHigh); yHigh = xHigh }
        if xHigh <= xLow { xHigh = xLow + 1 }
        if yHigh <= yLow { yHigh = yLow + 1 }
        let pad = (yHigh - yLow) * 0.05
        yLow -= pad; yHigh += pad
        func x(_ v: Double) -> Double { left + (v - xLow) / (xHigh - xLow) * (width - left - right) }
        func y(_ v: Double) -> Double { top + (yHigh - v) / (yHigh - yLow) * (height - top - bottom) }
        var body = axes(xLabel: xLabel, yLabel: yLabel, yLow: yLow, yHigh: yHigh, y: y)
        for t in ticks(xLow, xHigh) {
            body += "<text x=\"\(x(t))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\">\(label(t))</text>\n"
        }
        if diagonal {
            body += "<line x1=\"\(x(xLow))\" y1=\"\(y(xLow))\" x2=\"\(x(xHigh))\" y2=\"\(y(xHigh))\" stroke=\"grey\" stroke-dasharray=\"4 3\"/>\n"
        }
        let colours = ["#4878a8", "#d1603d", "#5a9e4b", "#8e6bb5", "#c4a000", "#6b6b6b"]
        for (k, s) in series.enumerated() {
            let colour = colours[k % colours.count]
            let points = s.points.filter { $0.0.isFinite && $0.1.isFinite }
            if connect {
                body += "<polyline fill=\"none\" stroke=\"\(colour)\" points=\"" + points.map { "\(x($0.0)),\(y($0.1))" }.joined(separator: " ") + "\"/>\n"
            } else {
                for p in points { body += "<circle cx=\"\(x(p.0))\" cy=\"\(y(p.1))\" r=\"2.5\" fill=\"\(colour)\" fill-opacity=\"0.7\"/>" }
                body += "\n"
            }
            body += "<text x=\"\(width - right - 4)\" y=\"\(top + 14 * Double(k + 1))\" text-anchor=\"end\" fill=\"\(colour)\">\(escape(s.name))</text>\n"
        }
        return document(title, body)
    }
}
