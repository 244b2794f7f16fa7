import Foundation

/// The rows of a fixed-width table in `output`: the line holding every one of `columns` is the
/// header; each column's cells are cut from the following lines at the header's offsets, up to
/// the first line that is blank or shorter than the last column's start. Cells are trimmed.
func fixedWidthRows(_ output: String, columns: [String]) -> [[String: String]] {
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
    guard let headerIndex = lines.firstIndex(where: { line in columns.allSatisfy { String(line).contains($0) } }) else { return [] }
    let header = String(lines[headerIndex])
    let starts = columns.map { header.distance(from: header.startIndex, to: header.range(of: $0)!.lowerBound) }
    var rows: [[String: String]] = []
    for line in lines[(headerIndex + 1)...] {
        guard let last = starts.last, line.count > last else { break }
        var row: [String: String] = [:]
        for (index, column) in columns.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : line.count
            row[column] = String(line[starts[index]..<min(end, line.count)]).trimmingCharacters(in: .whitespaces)
        }
        rows.append(row)
    }
    return rows
}

/// The rows of the Markdown table in `output` (after its header and separator), by column name.
func markdownRows(_ output: String) -> [[String: String]] {
    let lines = output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("|") }
    guard lines.count >= 2 else { return [] }
    let cells = { (line: String) in line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
    let header = cells(lines[0])
    return lines.dropFirst(2).map { line in Dictionary(zip(header, cells(line)), uniquingKeysWith: { first, _ in first }) }
}

/// The number at the start of a cell ("12.5", "1.80×", "91%", "3.1 (40 %)"), or nil.
func leadingNumber(_ cell: String?) -> Double? {
    guard let cell else { return nil }
    return Double(cell.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" })
}
