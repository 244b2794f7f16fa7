import Basics
import Foundation
import Networks
import Training

/// A benchmark's result: named columns and rows of cells, printed either in fixed-width
/// columns (one `line` per row, as rows are measured) or as a Markdown table.
public struct BenchmarkTable: Sendable {
    public let columns: [String]
    /// Characters per column in the fixed-width form (a longer cell is cut).
    public let widths: [Int]
    public private(set) var rows: [[String]] = []

    public init(columns: [String], widths: [Int]) {
        precondition(columns.count == widths.count, "a width for each column")
        self.columns = columns
        self.widths = widths
    }

    public init(columns: [String], width: Int) {
        self.init(columns: columns, widths: Array(repeating: width, count: columns.count))
    }

    /// The header in the fixed-width form.
    public var header: String { line(columns) }

    /// Cells padded to the column widths.
    public func line(_ cells: [String]) -> String {
        zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined()
    }

    /// Adds a row and returns its fixed-width line.
    @discardableResult
    public mutating func append(_ cells: [String]) -> String {
        rows.append(cells)
        return line(cells)
    }

    /// The cells of `column` (nil for a row too short to have it), or nil when there is no such column.
    public func cells(of column: String) -> [String?]? {
        columns.firstIndex(of: column).map { index in rows.map { index < $0.count ? $0[index] : nil } }
    }

    /// The whole table as Markdown.
    public var markdown: String {
        let separator = "|" + String(repeating: "---|", count: columns.count)
        var lines = ([columns] + rows).map { "| " + $0.joined(separator: " | ") + " |" }
        lines.insert(separator, at: 1)
        return lines.joined(separator: "\n")
    }
}

/// The 1, 5 and 15 minute load averages (/proc/loadavg), or "unknown".
func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}

/// A plan for timing, not learning: every structure trains (no validation or test set), quietly,
/// without checksums; the benchmarks set what they compare on top of it.
func timingPlan(_ kind: ModelKind, epochs: Int) -> TrainingPlan {
    var plan = TrainingPlan()
    plan.kind = kind
    plan.epochs = epochs
    plan.validationFraction = 0
    plan.testFraction = 0
    plan.quiet = true
    plan.checksumEvery = 0
    return plan
}

/// Where a benchmark's lines go as they are measured (standard output by default, flushed, so
/// they come before what child processes print).
public typealias BenchmarkLog = @Sendable (String) -> Void

/// Prints a line and flushes standard output.
public let printFlushed: BenchmarkLog = { line in
    print(line)
    fflush(nil)
}
