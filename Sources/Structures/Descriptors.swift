import Basics
import CSV
import Foundation

/// Per-element descriptor vectors (e.g. group, period, electronegativity) that models take as
/// input: looked up from the periodic table, with per-run overrides from a file.
public struct ElementDescriptors: Codable, Sendable, Equatable {
    /// Descriptor names, one per vector entry.
    public var names: [String]
    /// Each element's vector, by symbol.
    public var values: [String: [Double]]

    public init(names: [String], values: [String: [Double]]) {
        self.names = names
        self.values = values
    }

    /// Descriptors the periodic table knows.
    public static let available = ["Z", "group", "period", "covalent_radius", "electronegativity"]
    /// The seed study's three inputs. Its third value per element, which it calls a radius,
    /// equals the Pauling electronegativity (Fe 1.83, Co 1.88, Ni 1.91, Cu 1.90, Mo 2.16).
    public static let seedNames = ["group", "period", "electronegativity"]

    /// Looks the descriptors up in the periodic table for `elements`.
    public static func lookUp(_ names: [String] = seedNames, for elements: [String]) throws -> ElementDescriptors {
        var values: [String: [Double]] = [:]
        for symbol in elements {
            guard let element = PeriodicTable.element(symbol) else {
                throw InputError(file: "descriptors", field: symbol, "unknown element '\(symbol)'")
            }
            values[symbol] = try names.map { name in
                let value: Double?
                switch name {
                case "Z": value = Double(element.atomicNumber)
                case "group": value = element.group.map(Double.init)
                case "period": value = Double(element.period)
                case "covalent_radius": value = element.covalentRadius
                case "electronegativity": value = element.electronegativity
                default:
                    throw InputError(file: "descriptors", field: name,
                                     "unknown descriptor; choose from \(available.joined(separator: ", "))")
                }
                guard let value else {
                    throw InputError(file: "descriptors", field: name, "not defined for \(symbol); give it in a descriptor file")
                }
                return value
            }
        }
        return ElementDescriptors(names: names, values: values)
    }

    /// Reads overrides from a CSV file: a header `symbol,NAME1,NAME2,...`, then one element per line.
    public static func read(path: String) throws -> ElementDescriptors {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InputError(file: path, "cannot read the file (missing or unreadable)")
        }
        let reader = try CSVReader(string: text, hasHeaderRow: true, trimFields: true)
        var lines = [reader.headerRow ?? []]
        while let row = reader.next() { lines.append(row) }
        guard let header = lines.first, header.first == "symbol", header.count >= 2 else {
            throw InputError(file: path, line: 1, "expected a header 'symbol,NAME,...'")
        }
        var values: [String: [Double]] = [:]
        for (index, fields) in lines.dropFirst().enumerated() {
            let line = index + 2
            guard fields.count == header.count else {
                throw InputError(file: path, line: line, "expected \(header.count) fields, found \(fields.count)")
            }
            guard PeriodicTable.element(fields[0]) != nil else {
                throw InputError(file: path, line: line, field: "symbol", "unknown element '\(fields[0])'")
            }
            values[fields[0]] = try zip(header.dropFirst(), fields.dropFirst()).map { name, text in
                guard let value = Double(text), value.isFinite else {
                    throw InputError(file: path, line: line, field: name, "expected a finite number, found '\(text)'")
                }
                return value
            }
        }
        return ElementDescriptors(names: Array(header.dropFirst()), values: values)
    }

    /// The vector for `symbol`, or an error naming the element.
    public func vector(_ symbol: String) throws -> [Double] {
        guard let vector = values[symbol] else {
            throw InputError(file: "descriptors", field: symbol, "no descriptors for element '\(symbol)'")
        }
        return vector
    }
}
