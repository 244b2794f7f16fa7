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
        try parse(ExtXYZ.readText(path), file: path, options: options)
    }

    /// Parses site-table text (CRLF or LF line ends, last line with or without one).
    public static func parse(_ text: String, file: String, options: Options = Options()) throws -> SiteTable {
        // Excel's "CSV UTF-8" starts the file with a byte-order mark, which is not part of the first name.
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        guard !text.allSatisfy(\.isWhitespace) else { throw InputError(file: file, "empty file: no header and no rows") }
        // CSV.swift reads an unterminated quote to the end of the file as one field, so a stray
        // quote would silently swallow every later row: find it first.
        if let line = unterminatedQuoteLine(text) {
            throw InputError(file: file, line: line, field: "quote", "a quoted field opens here and is never closed")
        }
        let reader: CSVReader
        do {
            reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true)
        } catch {
            throw InputError(file: file, line: 1, "not readable as CSV: \(error)")
        }
        let columns = try Columns(header: reader.headerRow ?? [], options: options, file: file)
        var rows: [Row] = []
        var skipped: [Skipped] = []
        var line = 1 + columns.header.joined().filter(\.isNewline).count
        while let fields = reader.next() {
            line += 1
            let rowLine = line
            line += fields.joined().filter { $0 == "\n" }.count  // quoted line breaks move later rows down
            if fields.count == 1 && fields[0].isEmpty { continue }  // blank line
            do {
                if let row = try columns.row(fields, line: rowLine, file: file, options: options) { rows.append(row) }
            } catch let error as InputError where options.skipInvalid {
                skipped.append(Skipped(line: rowLine, reason: error.description))
            }
        }
        if let error = reader.error {
            throw InputError(file: file, line: line, "not readable as CSV: \(error)")
        }
        return SiteTable(file: file, siteNames: columns.siteNames, rows: rows, skipped: skipped)
    }

    /// The 1-based line where a quoted field opens that no later quote closes, or nil. A doubled
    /// quote inside a quoted field toggles twice, so it needs no special case.
    static func unterminatedQuoteLine(_ text: String) -> Int? {
        var inQuotes = false
        var line = 1, openedAt = 1
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") {
                inQuotes.toggle()
                if inQuotes { openedAt = line }
            } else if byte == UInt8(ascii: "\n") {
                line += 1
            }
        }
        return inQuotes ? openedAt : nil
    }

    /// Which column holds what, found from the header once.
    struct Columns {
        let header: [String]
        let siteNames: [String]
        let siteIndices: [Int]
        let targetIndex: Int
        let groupIndex: Int?

        init(header: [String], options: Options, file: String) throws {
            for (index, name) in header.enumerated() {
                try rejectNUL(name, file: file, line: 1, field: "header")
                guard !name.isEmpty else {
                    throw InputError(file: file, line: 1, field: "header", "column \(index + 1) has no name")
                }
                if let first = header[..<index].firstIndex(of: name) {
                    throw InputError(file: file, line: 1, field: name,
                                     "column name given twice (columns \(first + 1) and \(index + 1)); each column needs its own name")
                }
            }
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
            if let repeated = siteNames.enumerated().first(where: { siteNames[..<$0.offset].contains($0.element) }) {
                throw InputError(file: file, line: 1, field: repeated.element, "site column named twice in --sites")
            }
            self.header = header
            self.siteNames = siteNames
            self.siteIndices = try siteNames.map { try columnIndex($0, role: "site") }
            self.targetIndex = targetIndex
            self.groupIndex = groupIndex
        }

        /// The row of `fields`, nil when the group filter leaves it out.
        func row(_ fields: [String], line: Int, file: String, options: Options) throws -> Row? {
            guard fields.count == header.count else {
                throw InputError(file: file, line: line, field: nil,
                                 "expected \(header.count) fields as in the header, found \(fields.count)")
            }
            for (index, text) in fields.enumerated() { try rejectNUL(text, file: file, line: line, field: header[index]) }
            if let groupIndex, let wanted = options.groupValue, fields[groupIndex] != wanted { return nil }
            let elements = try siteIndices.map { index -> String in
                let symbol = fields[index]
                guard PeriodicTable.element(symbol) != nil else {
                    throw InputError(file: file, line: line, field: header[index], "unknown element '\(symbol)'")
                }
                return symbol
            }
            let target = try ExtXYZ.Limits.energy(fields[targetIndex], file: file, line: line, field: options.targetColumn)
            return Row(line: line, elements: elements, target: target, group: groupIndex.map { fields[$0] })
        }
    }

    /// A NUL byte would silently end the number or name in the parsers below.
    static func rejectNUL(_ text: String, file: String, line: Int, field: String) throws {
        if text.utf8.contains(0) {
            throw InputError(file: file, line: line, field: field, "contains a NUL byte (binary or corrupted data)")
        }
    }

    /// One line for the user about what was skipped, or nil.
    public var skippedSummary: String? {
        guard !skipped.isEmpty else { return nil }
        return "\(file): skipped \(skipped.count) invalid row\(skipped.count == 1 ? "" : "s") (line\(skipped.count == 1 ? "" : "s") "
            + skipped.map { "\($0.line)" }.joined(separator: ", ") + ")"
    }
}
