import Basics
import CSV
import Foundation

/// CSV text from a header and rows; quoting is CSV.swift's, not ours.
public func csvText(header: [String], rows: [[String]]) throws -> String {
    let writer = try CSVWriter(stream: .toMemory())
    try writer.write(row: header)
    for row in rows { try writer.write(row: row) }
    writer.stream.close()
    guard let data = writer.stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data else {
        throw CocoaError(.fileWriteUnknown)
    }
    return String(decoding: data, as: UTF8.self) + "\n"
}

/// Writes a CSV file atomically.
public func writeCSV(_ url: URL, header: [String], rows: [[String]]) throws {
    try writeAtomically(csvText(header: header, rows: rows), to: url)
}

/// Writes a value as pretty, key-sorted JSON, atomically.
public func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    try writeAtomically(sitelensJSONEncoder(pretty: true).encode(value), to: url)
}

/// A number for a table, in the shortest form that reads back as the same Double (Swift's
/// description): a DFT energy keeps every digit it was given, a spread of 1e-9 eV stays visible.
public func tableNumber(_ x: Double) -> String {
    x.isFinite ? "\(x)" : "nan"
}
