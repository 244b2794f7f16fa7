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

    /// What one file may ask the reader to hold, checked before anything is allocated for it.
    public enum Limits {
        /// Bytes of one input file (extxyz or site table), read whole into memory: 1 GiB.
        public static let fileBytes = 1 << 30
        /// Atoms in one frame.
        public static let atomsPerFrame = 1_000_000
        /// Values (columns) per atom line, summed over every declared property.
        public static let columnsPerAtom = 1_000
        /// Largest |coordinate| and |lattice component| accepted, Å: far beyond any real cell,
        /// small enough that every later product of two lengths stays finite.
        public static let coordinate = 1e6
        /// Shortest periodic lattice vector and smallest periodic cell height, Å: below this
        /// the periodic copies of a frame would not fit in memory.
        public static let latticeHeight = 0.1
        /// Largest |energy| accepted, eV: all-electron totals of large cells (~1e7 eV) pass, and
        /// squares and sums over a million structures stay finite.
        public static let energy = 1e12

        /// `text` as an energy: finite and within `energy`, else an error naming file, line and field.
        static func energy(_ text: String, file: String, line: Int, field: String) throws -> Double {
            guard let value = Double(text), value.isFinite else {
                throw InputError(file: file, line: line, field: field, "expected a finite number, found '\(text)'")
            }
            guard abs(value) <= energy else {
                throw InputError(file: file, line: line, field: field, "|\(text)| eV is beyond \(energy) eV; no energy of a real structure is")
            }
            return value
        }
    }

    /// Reads every frame of the file at `path`.
    public static func read(path: String, options: Options = Options()) throws -> [Structure] {
        try parse(readText(path), file: path, options: options)
    }

    /// The text of an input file, refused before reading when larger than `Limits.fileBytes`.
    public static func readText(_ path: String) throws -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= Limits.fileBytes else {
            throw InputError(file: path, "the file is \(size) bytes; at most \(Limits.fileBytes) are read")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "cannot read the file (missing or unreadable)")
        }
        return String(decoding: data, as: UTF8.self)
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
            let count = try atomCount(lines[index], line: index + 1, linesAfter: lines.count - index - 2,
                                      afterFrame: !frames.isEmpty, file: file)
            let frame = try parseFrame(count: count, comment: lines[index + 1], commentLine: index + 2,
                                       atomLines: lines[(index + 2)..<(index + 2 + count)], file: file, options: options)
            do {
                frames.append(try options.siteRule.relabel(frame))
            } catch {
                throw InputError(file: file, line: index + 1, field: "--site-rule \(options.siteRule.rawValue)", error.problem)
            }
            index += 2 + count
        }
        return frames
    }

    /// The atom count on a frame's first line, checked against the lines that follow it (so no
    /// arithmetic on it can overflow) and against `Limits.atomsPerFrame`.
    static func atomCount(_ text: Substring, line: Int, linesAfter: Int, afterFrame: Bool, file: String) throws -> Int {
        let countText = text.trimmingCharacters(in: .whitespaces)
        func fail(_ problem: String) -> InputError { InputError(file: file, line: line, field: "atom count", problem) }
        try rejectNUL(countText, file: file, line: line, field: "atom count")
        guard let count = Int(countText), count >= 0 else {
            let hint = afterFrame ? " (does the atom count of the frame before match its atom lines?)" : ""
            throw fail("expected a whole number of atoms, found '\(countText)'\(hint)")
        }
        guard count >= 1 else { throw fail("a frame with 0 atoms: there is nothing to rasterise, train on or predict") }
        guard count <= Limits.atomsPerFrame else {
            throw fail("\(count) atoms asked for; at most \(Limits.atomsPerFrame) per frame are read")
        }
        guard linesAfter >= 0, count <= linesAfter else {
            let available = max(0, linesAfter)
            throw fail("truncated frame: it declares \(count) atoms but the file ends after \(available) atom line\(available == 1 ? "" : "s")")
        }
        return count
    }

    /// A NUL byte would silently end a number or key in the C-string parsers below it.
    static func rejectNUL<S: StringProtocol>(_ text: S, file: String, line: Int, field: String) throws {
        if text.utf8.contains(0) {
            throw InputError(file: file, line: line, field: field, "contains a NUL byte (binary or corrupted data)")
        }
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
        var total = 0
        var names = Set<String>()
        return try stride(from: 0, to: parts.count, by: 3).map { i in
            // A name given twice would leave two columns under one key (and one of them unread).
            guard !parts[i].isEmpty else {
                throw InputError(file: file, line: line, field: "Properties", "property \(i / 3 + 1) has no name")
            }
            guard names.insert(parts[i]).inserted else {
                throw InputError(file: file, line: line, field: "Properties", "property '\(parts[i])' is declared twice")
            }
            guard let type = parts[i + 1].first, "SRIL".contains(type), parts[i + 1].count == 1,
                  let columns = Int(parts[i + 2]), columns >= 1 else {
                throw InputError(file: file, line: line, field: "Properties",
                                 "bad declaration '\(parts[i]):\(parts[i + 1]):\(parts[i + 2])' (type S, R, I or L and a positive count)")
            }
            // Each count is at most the limit before it is added, so the sum cannot overflow.
            guard columns <= Limits.columnsPerAtom, total + columns <= Limits.columnsPerAtom else {
                throw InputError(file: file, line: line, field: "Properties",
                                 "'\(parts[i])' brings the columns per atom to more than \(Limits.columnsPerAtom) (asked: \(columns) for it)")
            }
            total += columns
            return Property(name: parts[i], type: type, columns: columns)
        }
    }

    /// What a frame's comment line says: declared columns, cell, periodicity, energy, the rest.
    struct FrameHeader {
        var info: [String: String]
        var properties: [Property]
        var cell: [SIMD3<Double>]?
        var pbc: [Bool]
        var energy: Double?
        var columnCount: Int { properties.reduce(0) { $0 + $1.columns } }
    }

    static func parseFrame(count: Int, comment: Substring, commentLine: Int, atomLines: ArraySlice<Substring>,
                           file: String, options: Options) throws -> Structure {
        let header = try parseHeader(comment, line: commentLine, file: file, options: options)
        let atoms = try parseAtoms(atomLines, header: header, firstLine: commentLine + 1, file: file)
        var structure = Structure(symbols: atoms.symbols, positions: atoms.positions, cell: header.cell, pbc: header.pbc,
                                  energy: header.energy, info: header.info)
        for key in ["Properties", "Lattice", "pbc", options.energyKey] { structure.info[key] = nil }
        for property in header.properties where property.name != "species" && property.name != "pos" {
            let raw = atoms.extra[property.name] ?? []
            if property.name == "site" && property.type == "S" && property.columns == 1 {
                structure.siteLabels = raw.map { $0[0] }
                continue
            }
            structure.setColumn(property.name, try typedColumn(raw, property, file: file, firstLine: commentLine + 1))
        }
        return structure
    }

    static func parseHeader(_ comment: Substring, line: Int, file: String, options: Options) throws -> FrameHeader {
        let pairs = try KeyValueLine.parse(String(comment), file: file, line: line)
        var info: [String: String] = [:]
        for (key, value) in pairs {
            try rejectNUL(key, file: file, line: line, field: "comment")
            try rejectNUL(value, file: file, line: line, field: key)
            info[key] = value
        }
        let properties = try parseProperties(info["Properties"] ?? "species:S:1:pos:R:3", file: file, line: line)
        guard properties.contains(where: { $0.name == "species" && $0.type == "S" && $0.columns == 1 }) else {
            throw InputError(file: file, line: line, field: "Properties", "no species:S:1 column declared")
        }
        guard properties.contains(where: { $0.name == "pos" && $0.type == "R" && $0.columns == 3 }) else {
            throw InputError(file: file, line: line, field: "Properties", "no pos:R:3 column declared")
        }
        let cell = try info["Lattice"].map { try parseLattice($0, file: file, line: line) }
        var pbc = [cell != nil, cell != nil, cell != nil]  // ASE: a Lattice without pbc means periodic
        if let text = info["pbc"] {
            let flags = text.split(separator: " ").compactMap { parseLogical(String($0)) }
            guard flags.count == 3, text.split(separator: " ").count == 3 else {
                throw InputError(file: file, line: line, field: "pbc", "expected three of T/F, found '\(text)'")
            }
            pbc = flags
        }
        if let cell { try checkPeriodicCell(cell, pbc: pbc, file: file, line: line) }
        var energy: Double? = nil
        if let text = info[options.energyKey] {
            energy = try Limits.energy(text, file: file, line: line, field: options.energyKey)
        } else if options.requireEnergy {
            throw InputError(file: file, line: line, field: options.energyKey, "missing energy: the comment line has no '\(options.energyKey)=' key" + Self.energyKeyHint(info.keys))
        }
        return FrameHeader(info: info, properties: properties, cell: cell, pbc: pbc, energy: energy)
    }

    /// What to do about a missing energy: the keys the line does hold, and the option that picks one.
    static func energyKeyHint(_ keys: some Collection<String>) -> String {
        let others = keys.filter { !["Lattice", "Properties", "pbc"].contains($0) }.sorted().prefix(6)
        return (others.isEmpty ? "" : " (it has \(others.joined(separator: ", ")))") + "; name the energy key with --energy-key KEY"
    }

    static func parseLattice(_ lattice: String, file: String, line: Int) throws -> [SIMD3<Double>] {
        let numbers = lattice.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }
        guard numbers.count == 9, lattice.split(whereSeparator: { $0 == " " || $0 == "\t" }).count == 9,
              numbers.allSatisfy({ $0.isFinite && abs($0) <= Limits.coordinate }) else {
            throw InputError(file: file, line: line, field: "Lattice",
                             "expected 9 finite numbers of at most \(Limits.coordinate) Å in size, found '\(lattice)'")
        }
        let v = numbers
        return [SIMD3(v[0], v[1], v[2]), SIMD3(v[3], v[4], v[5]), SIMD3(v[6], v[7], v[8])]
    }

    /// Periodic lattice vectors must span a real cell: each at least `Limits.latticeHeight` long
    /// and, together, each that far from the span of the others (no flat or needle cells).
    static func checkPeriodicCell(_ cell: [SIMD3<Double>], pbc: [Bool], file: String, line: Int) throws {
        let periodic = (0..<3).filter { pbc[$0] }
        for k in periodic {
            let length = (cell[k] * cell[k]).sum().squareRoot()
            guard length >= Limits.latticeHeight else {
                throw InputError(file: file, line: line, field: "Lattice",
                                 "periodic vector a\(k + 1) is \(length) Å long; at least \(Limits.latticeHeight) Å is needed")
            }
        }
        guard periodic.count >= 2 else { return }
        let heights = Lattice.heights(periodic.map { cell[$0] })
        for (k, height) in heights.enumerated() where !(height >= Limits.latticeHeight) {
            throw InputError(file: file, line: line, field: "Lattice",
                             "the periodic vectors are (nearly) degenerate: a\(periodic[k] + 1) is \(height) Å from the span of the others; at least \(Limits.latticeHeight) Å is needed")
        }
    }

    /// The atom lines of a frame: species, positions and the raw text of every other column.
    static func parseAtoms(_ atomLines: ArraySlice<Substring>, header: FrameHeader, firstLine: Int, file: String) throws
        -> (symbols: [String], positions: [SIMD3<Double>], extra: [String: [[String]]]) {
        let expectedColumns = header.columnCount
        var symbols: [String] = [], positions: [SIMD3<Double>] = []
        symbols.reserveCapacity(atomLines.count)
        positions.reserveCapacity(atomLines.count)
        var extra: [String: [[String]]] = [:]
        for (offset, atomLine) in atomLines.enumerated() {
            let lineNumber = firstLine + offset
            let fields = atomLine.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == expectedColumns else {
                throw InputError(file: file, line: lineNumber, field: "atom \(offset + 1)",
                                 "expected \(expectedColumns) columns (Properties=\(header.info["Properties"] ?? "species:S:1:pos:R:3")), found \(fields.count)")
            }
            var column = 0
            for property in header.properties {
                let values = fields[column..<(column + property.columns)].map(String.init)
                column += property.columns
                for value in values { try rejectNUL(value, file: file, line: lineNumber, field: property.name) }
                switch property.name {
                case "species":
                    guard Structure.isDummy(values[0]) || PeriodicTable.element(values[0]) != nil else {
                        throw InputError(file: file, line: lineNumber, field: "species", "unknown element '\(values[0])'")
                    }
                    symbols.append(values[0])
                case "pos":
                    positions.append(try parsePosition(values, file: file, line: lineNumber))
                default:
                    extra[property.name, default: []].append(values)
                }
            }
        }
        return (symbols, positions, extra)
    }

    static func parsePosition(_ values: [String], file: String, line: Int) throws -> SIMD3<Double> {
        var xyz = SIMD3<Double>()
        for (axis, text) in values.enumerated() {
            guard let value = Double(text), value.isFinite, abs(value) <= Limits.coordinate else {
                throw InputError(file: file, line: line, field: "pos[\("xyz".map(String.init)[axis])]",
                                 "expected a finite number of at most \(Limits.coordinate) Å in size, found '\(text)'")
            }
            xyz[axis] = value
        }
        return xyz
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
