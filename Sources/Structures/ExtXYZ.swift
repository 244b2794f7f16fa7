import Basics
import Foundation

/// Reads and writes extended XYZ as ASE does: multi-frame, a comment line of key=value pairs
/// (quoted values allowed), `Lattice`, `pbc`, `Properties=species:S:1:pos:R:3[:name:T:n...]`.
public enum ExtXYZ {
    /// Reading options: which comment key holds the energy, and whether every frame needs one.
    public struct Options: Sendable {
        public var energyKey: String
        public var requireEnergy: Bool
        /// Where each frame's site labels come from (`SiteRules.swift`).
        public var siteRule: SiteRule
        public init(energyKey: String = "energy", requireEnergy: Bool = false, siteRule: SiteRule = .column) {
            self.energyKey = energyKey
            self.requireEnergy = requireEnergy
            self.siteRule = siteRule
        }
    }

    /// Reads every frame of the file at `path`.
    public static func read(path: String, options: Options = Options()) throws -> [Structure] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "cannot read the file (missing or unreadable)")
        }
        return try parse(String(decoding: data, as: UTF8.self), file: path, options: options)
    }

    /// Parses extxyz text; `file` names it in errors.
    public static func parse(_ text: String, file: String, options: Options = Options()) throws -> [Structure] {
        // Swift reads "\r\n" as one newline character, so CRLF files split like LF ones.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        guard !lines.isEmpty else { throw InputError(file: file, "empty file: no frames") }

        var frames: [Structure] = []
        var index = 0
        while index < lines.count {
            let countLine = index + 1
            let countText = lines[index].trimmingCharacters(in: .whitespaces)
            guard let count = Int(countText), count >= 0 else {
                let hint = frames.isEmpty ? "" : " (does the atom count of the frame before match its atom lines?)"
                throw InputError(file: file, line: countLine, field: "atom count",
                                 "expected a whole number of atoms, found '\(countText)'\(hint)")
            }
            guard index + 2 + count <= lines.count else {
                let available = max(0, lines.count - index - 2)
                throw InputError(file: file, line: countLine, field: "atom count",
                                 "truncated frame: it declares \(count) atoms but the file ends after \(available) atom line\(available == 1 ? "" : "s")")
            }
            let frame = try parseFrame(count: count, comment: lines[index + 1], commentLine: countLine + 1,
                                       atomLines: lines[(index + 2)..<(index + 2 + count)], file: file, options: options)
            frames.append(options.siteRule.relabel(frame))
            index += 2 + count
        }
        return frames
    }

    /// One declared per-atom property: name, type letter, number of columns.
    struct Property {
        let name: String
        let type: Character
        let columns: Int
    }

    static func parseProperties(_ text: String, file: String, line: Int) throws -> [Property] {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count % 3 == 0, !parts.isEmpty else {
            throw InputError(file: file, line: line, field: "Properties", "expected name:type:count triples, found '\(text)'")
        }
        return try stride(from: 0, to: parts.count, by: 3).map { i in
            guard let type = parts[i + 1].first, "SRIL".contains(type), parts[i + 1].count == 1,
                  let columns = Int(parts[i + 2]), columns >= 1 else {
                throw InputError(file: file, line: line, field: "Properties",
                                 "bad declaration '\(parts[i]):\(parts[i + 1]):\(parts[i + 2])' (type S, R, I or L and a positive count)")
            }
            return Property(name: parts[i], type: type, columns: columns)
        }
    }

    static func parseFrame(count: Int, comment: Substring, commentLine: Int, atomLines: ArraySlice<Substring>,
                           file: String, options: Options) throws -> Structure {
        let pairs = try KeyValueLine.parse(String(comment), file: file, line: commentLine)
        var info: [String: String] = [:]
        for (key, value) in pairs { info[key] = value }

        let properties = try parseProperties(info["Properties"] ?? "species:S:1:pos:R:3", file: file, line: commentLine)
        guard properties.contains(where: { $0.name == "species" && $0.type == "S" && $0.columns == 1 }) else {
            throw InputError(file: file, line: commentLine, field: "Properties", "no species:S:1 column declared")
        }
        guard properties.contains(where: { $0.name == "pos" && $0.type == "R" && $0.columns == 3 }) else {
            throw InputError(file: file, line: commentLine, field: "Properties", "no pos:R:3 column declared")
        }
        let expectedColumns = properties.reduce(0) { $0 + $1.columns }

        var cell: [SIMD3<Double>]? = nil
        if let lattice = info["Lattice"] {
            let numbers = lattice.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { Double($0) }
            guard numbers.count == 9, numbers.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                throw InputError(file: file, line: commentLine, field: "Lattice", "expected 9 finite numbers, found '\(lattice)'")
            }
            let v = numbers.map { $0! }
            cell = [SIMD3(v[0], v[1], v[2]), SIMD3(v[3], v[4], v[5]), SIMD3(v[6], v[7], v[8])]
        }
        var pbc = [cell != nil, cell != nil, cell != nil]  // ASE: a Lattice without pbc means periodic
        if let text = info["pbc"] {
            let flags = text.split(separator: " ").map { parseLogical(String($0)) }
            guard flags.count == 3, flags.allSatisfy({ $0 != nil }) else {
                throw InputError(file: file, line: commentLine, field: "pbc", "expected three of T/F, found '\(text)'")
            }
            pbc = flags.map { $0! }
        }

        var energy: Double? = nil
        if let text = info[options.energyKey] {
            guard let value = Double(text), value.isFinite else {
                throw InputError(file: file, line: commentLine, field: options.energyKey, "expected a finite number, found '\(text)'")
            }
            energy = value
        } else if options.requireEnergy {
            throw InputError(file: file, line: commentLine, field: options.energyKey, "missing energy: the comment line has no '\(options.energyKey)=' key")
        }

        var symbols: [String] = []
        var positions: [SIMD3<Double>] = []
        var extra: [String: [[String]]] = [:]
        for (offset, atomLine) in atomLines.enumerated() {
            let lineNumber = commentLine + 1 + offset
            let fields = atomLine.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == expectedColumns else {
                throw InputError(file: file, line: lineNumber, field: "atom \(offset + 1)",
                                 "expected \(expectedColumns) columns (Properties=\(info["Properties"] ?? "species:S:1:pos:R:3")), found \(fields.count)")
            }
            var column = 0
            for property in properties {
                let values = fields[column..<(column + property.columns)].map(String.init)
                column += property.columns
                switch property.name {
                case "species":
                    let symbol = values[0]
                    guard Structure.isDummy(symbol) || PeriodicTable.element(symbol) != nil else {
                        throw InputError(file: file, line: lineNumber, field: "species", "unknown element '\(symbol)'")
                    }
                    symbols.append(symbol)
                case "pos":
                    var xyz = SIMD3<Double>()
                    for (axis, text) in values.enumerated() {
                        guard let value = Double(text), value.isFinite else {
                            throw InputError(file: file, line: lineNumber, field: "pos[\("xyz".map(String.init)[axis])]",
                                             "expected a finite number, found '\(text)'")
                        }
                        xyz[axis] = value
                    }
                    positions.append(xyz)
                default:
                    extra[property.name, default: []].append(values)
                }
            }
        }
        var structure = Structure(symbols: symbols, positions: positions, cell: cell, pbc: pbc, energy: energy, info: info)
        structure.info["Properties"] = nil
        structure.info["Lattice"] = nil
        structure.info["pbc"] = nil
        structure.info[options.energyKey] = nil
        for property in properties where property.name != "species" && property.name != "pos" {
            let raw = extra[property.name] ?? []
            if property.name == "site" && property.type == "S" && property.columns == 1 {
                structure.siteLabels = raw.map { $0[0] }
                continue
            }
            structure.setColumn(property.name, try typedColumn(raw, property, file: file, firstLine: commentLine + 1))
        }
        return structure
    }

    static func typedColumn(_ raw: [[String]], _ property: Property, file: String, firstLine: Int) throws -> PerAtomColumn {
        func convert<T>(_ parse: (String) -> T?, _ what: String) throws -> [[T]] {
            try raw.enumerated().map { atom, values in
                try values.map { text in
                    guard let value = parse(text) else {
                        throw InputError(file: file, line: firstLine + atom, field: property.name, "expected \(what), found '\(text)'")
                    }
                    return value
                }
            }
        }
        switch property.type {
        case "R": return .real(try convert({ Double($0).flatMap { $0.isFinite ? $0 : nil } }, "a finite number"))
        case "I": return .integer(try convert({ Int($0) }, "an integer"))
        case "L": return .logical(try convert(parseLogical, "T or F"))
        default: return .string(raw)
        }
    }

    static func parseLogical(_ text: String) -> Bool? {
        switch text {
        case "T", "True", "true", "TRUE": return true
        case "F", "False", "false", "FALSE": return false
        default: return nil
        }
    }

    // MARK: Writing

    /// Extxyz text for `structures`, with site labels and extra per-atom columns, as ASE reads it.
    public static func format(_ structures: [Structure], energyKey: String = "energy") -> String {
        var out = ""
        for s in structures {
            out += "\(s.count)\n"
            var properties = "species:S:1:pos:R:3"
            if s.siteLabels != nil { properties += ":site:S:1" }
            for name in s.perAtomColumnOrder {
                let column = s.perAtomColumns[name]!
                let (letter, width): (String, Int) = {
                    switch column {
                    case .real(let v): return ("R", v.first?.count ?? 1)
                    case .integer(let v): return ("I", v.first?.count ?? 1)
                    case .string(let v): return ("S", v.first?.count ?? 1)
                    case .logical(let v): return ("L", v.first?.count ?? 1)
                    }
                }()
                properties += ":\(name):\(letter):\(width)"
            }
            var comment: [String] = []
            if let cell = s.cell {
                comment.append("Lattice=\"" + cell.flatMap { [$0.x, $0.y, $0.z] }.map(formatNumber).joined(separator: " ") + "\"")
            }
            comment.append("Properties=\(properties)")
            if let energy = s.energy { comment.append("\(energyKey)=\(formatNumber(energy))") }
            for key in s.info.keys.sorted() { comment.append("\(KeyValueLine.quoteIfNeeded(key))=\(KeyValueLine.quoteIfNeeded(s.info[key]!))") }
            comment.append("pbc=\"" + s.pbc.map { $0 ? "T" : "F" }.joined(separator: " ") + "\"")
            out += comment.joined(separator: " ") + "\n"
            for i in 0..<s.count {
                var fields = [s.symbols[i]] + [s.positions[i].x, s.positions[i].y, s.positions[i].z].map(formatNumber)
                if let labels = s.siteLabels { fields.append(labels[i]) }
                for name in s.perAtomColumnOrder {
                    switch s.perAtomColumns[name]! {
                    case .real(let v): fields += v[i].map(formatNumber)
                    case .integer(let v): fields += v[i].map(String.init)
                    case .string(let v): fields += v[i]
                    case .logical(let v): fields += v[i].map { $0 ? "T" : "F" }
                    }
                }
                out += fields.joined(separator: " ") + "\n"
            }
        }
        return out
    }

    /// Writes `structures` to `url` atomically.
    public static func write(_ structures: [Structure], to url: URL, energyKey: String = "energy") throws {
        try writeAtomically(format(structures, energyKey: energyKey), to: url)
    }

    /// Shortest text that reads back to the same Double.
    static func formatNumber(_ value: Double) -> String { "\(value)" }
}

/// The key=value comment line of extxyz: bare or double-quoted values, backslash escapes in quotes.
enum KeyValueLine {
    static func parse(_ text: String, file: String, line: Int) throws -> [(String, String)] {
        var pairs: [(String, String)] = []
        var chars = Array(text)[...]
        func skipSpace() { while let c = chars.first, c == " " || c == "\t" { chars.removeFirst() } }
        func token(stopAtEquals: Bool) throws -> String {
            if chars.first == "\"" {
                chars.removeFirst()
                var value = ""
                while let c = chars.first {
                    chars.removeFirst()
                    if c == "\\", let next = chars.first { value.append(next); chars.removeFirst(); continue }
                    if c == "\"" { return value }
                    value.append(c)
                }
                throw InputError(file: file, line: line, field: "comment", "unterminated quoted value")
            }
            if chars.first == "{" {
                var value = ""
                while let c = chars.first {
                    chars.removeFirst()
                    if c == "}" { return value.trimmingCharacters(in: .whitespaces) }
                    if c != "{" { value.append(c == "," ? " " : c) }
                }
                throw InputError(file: file, line: line, field: "comment", "unterminated {...} value")
            }
            var value = ""
            while let c = chars.first, c != " ", c != "\t", !(stopAtEquals && c == "=") {
                value.append(c)
                chars.removeFirst()
            }
            return value
        }
        skipSpace()
        while !chars.isEmpty {
            let key = try token(stopAtEquals: true)
            skipSpace()
            if chars.first == "=" {
                chars.removeFirst()
                skipSpace()
                pairs.append((key, try token(stopAtEquals: false)))
            } else {
                pairs.append((key, "T"))  // a bare key is a true flag, as ASE reads it
            }
            skipSpace()
        }
        return pairs
    }

    static func quoteIfNeeded(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "\t" || $0 == "=" || $0 == "\"" || $0 == "\\" }
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
