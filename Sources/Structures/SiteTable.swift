import Basics
import CSV
import Foundation

/// A site table: one row per adsorption configuration, one element symbol per site column, a
/// target energy and a group (the adsorbate), as in the high-entropy-alloy CO2RR study.
public struct SiteTable: Sendable {
    /// One accepted row.
    public struct Row: Sendable, Equatable {
        /// 1-based line of the row in the file.
        public let line: Int
        /// Element symbol at each site, in `siteNames` order.
        public let elements: [String]
        public let target: Double
        /// The group column's value (e.g. the adsorbate), when a group column exists.
        public let group: String?
    }

    /// A row left out because it was invalid (only with `skipInvalid`).
    public struct Skipped: Sendable, Equatable {
        public let line: Int
        public let reason: String
    }

    /// Reading options; column names are options, not fixed.
    public struct Options: Sendable {
        /// Site columns in order; nil means every column except the target and group columns.
        public var siteColumns: [String]?
        public var targetColumn: String
        public var groupColumn: String?
        /// Keep only rows whose group column has this value.
        public var groupValue: String?
        /// Skip invalid rows (and report them) instead of stopping at the first.
        public var skipInvalid: Bool

        public init(siteColumns: [String]? = nil, targetColumn: String = "Eads", groupColumn: String? = "Adsorbate",
                    groupValue: String? = nil, skipInvalid: Bool = false) {
            self.siteColumns = siteColumns
            self.targetColumn = targetColumn
            self.groupColumn = groupColumn
            self.groupValue = groupValue
            self.skipInvalid = skipInvalid
        }

        /// Parses `COLUMN=VALUE` (as in `--group Adsorbate=COOH`) into the group options.
        public mutating func select(group: String) throws {
            let parts = group.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw InputError(file: "--group", "expected COLUMN=VALUE, e.g. Adsorbate=COOH; found '\(group)'")
            }
            groupColumn = parts[0]
            groupValue = parts[1]
        }
    }

    public let file: String
    public let siteNames: [String]
    public let rows: [Row]
    public let skipped: [Skipped]
    /// Every distinct element seen at any site, sorted by atomic number.
    public var elements: [String] {
        PeriodicTable.inTableOrder(rows.flatMap(\.elements))
    }

    /// Reads the site table at `path`.
    public static func read(path: String, options: Options = Options()) throws -> SiteTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "cannot read the file (missing or unreadable)")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path, options: options)
    }

    /// Parses site-table text (CRLF or LF line ends, last line with or without one).
    public static func parse(_ text: String, file: String, options: Options = Options()) throws -> SiteTable {
        guard !text.allSatisfy(\.isWhitespace) else { throw InputError(file: file, "empty file: no header and no rows") }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true)
        } catch {
            throw InputError(file: file, line: 1, "not readable as CSV: \(error)")
        }
        let header = reader.headerRow ?? []
        func columnIndex(_ name: String, role: String) throws -> Int {
            guard let index = header.firstIndex(of: name) else {
                throw InputError(file: file, line: 1, field: name,
                                 "no \(role) column '\(name)' in the header (columns: \(header.joined(separator: ", ")))")
            }
            return index
        }
        let targetIndex = try columnIndex(options.targetColumn, role: "target")
        var groupIndex: Int? = nil
        if let groupColumn = options.groupColumn {
            if options.groupValue != nil { groupIndex = try columnIndex(groupColumn, role: "group") }
            else { groupIndex = header.firstIndex(of: groupColumn) }
        }
        let siteNames = options.siteColumns ?? header.enumerated()
            .filter { $0.offset != targetIndex && $0.offset != groupIndex }.map(\.element)
        guard !siteNames.isEmpty else { throw InputError(file: file, line: 1, "no site columns") }
        let siteIndices = try siteNames.map { try columnIndex($0, role: "site") }

        var rows: [Row] = []
        var skipped: [Skipped] = []
        var line = 1 + header.joined().filter(\.isNewline).count
        while let fields = reader.next() {
            line += 1
            let rowLine = line
            line += fields.joined().filter { $0 == "\n" }.count  // quoted line breaks move later rows down
            if fields.count == 1 && fields[0].isEmpty { continue }  // blank line
            do {
                guard fields.count == header.count else {
                    throw InputError(file: file, line: rowLine, field: nil,
                                     "expected \(header.count) fields as in the header, found \(fields.count)")
                }
                if let groupIndex, let wanted = options.groupValue, fields[groupIndex] != wanted { continue }
                let elements = try siteIndices.map { index -> String in
                    let symbol = fields[index]
                    guard PeriodicTable.element(symbol) != nil else {
                        throw InputError(file: file, line: rowLine, field: header[index], "unknown element '\(symbol)'")
                    }
                    return symbol
                }
                let targetText = fields[targetIndex]
                guard let target = Double(targetText), target.isFinite else {
                    throw InputError(file: file, line: rowLine, field: options.targetColumn,
                                     "expected a finite number, found '\(targetText)'")
                }
                rows.append(Row(line: rowLine, elements: elements, target: target, group: groupIndex.map { fields[$0] }))
            } catch let error as InputError where options.skipInvalid {
                skipped.append(Skipped(line: rowLine, reason: error.description))
            }
        }
        if let error = reader.error {
            throw InputError(file: file, line: line, "not readable as CSV: \(error)")
        }
        return SiteTable(file: file, siteNames: siteNames, rows: rows, skipped: skipped)
    }

    /// One line for the user about what was skipped, or nil.
    public var skippedSummary: String? {
        guard !skipped.isEmpty else { return nil }
        return "\(file): skipped \(skipped.count) invalid row\(skipped.count == 1 ? "" : "s") (line\(skipped.count == 1 ? "" : "s") "
            + skipped.map { "\($0.line)" }.joined(separator: ", ") + ")"
    }
}
