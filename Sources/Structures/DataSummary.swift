import Foundation

/// What a data set holds, for `sitelens check`: structures, atoms per element (and the
/// structures holding each), atoms per site label, and the energies' range. Read one
/// structure at a time, so a file larger than memory can be summarised.
public struct DataSummary: Sendable {
    public var structures = 0
    public var withEnergy = 0
    public var energyRange: ClosedRange<Double>?
    public var energySum = 0.0
    public var atomsPerElement: [String: Int] = [:]
    public var structuresPerElement: [String: Int] = [:]
    /// Atoms per site label (only for structures that carry labels).
    public var atomsPerSite: [String: Int] = [:]

    public init(_ store: any StructureStore) throws {
        for index in 0..<store.count {
            let structure = try store.structure(index)
            structures += 1
            if let energy = structure.energy, energy.isFinite {
                withEnergy += 1
                energySum += energy
                energyRange = energyRange.map { min($0.lowerBound, energy)...max($0.upperBound, energy) } ?? energy...energy
            }
            for symbol in structure.symbols where !Structure.isDummy(symbol) { atomsPerElement[symbol, default: 0] += 1 }
            for symbol in Set(structure.symbols) where !Structure.isDummy(symbol) { structuresPerElement[symbol, default: 0] += 1 }
            for label in structure.siteLabels ?? [] { atomsPerSite[label, default: 0] += 1 }
        }
    }

    /// The summary as lines to print.
    public var lines: [String] {
        var lines = ["structures: \(structures), \(withEnergy) with an energy"]
        if let energyRange {
            lines.append(String(format: "energies: %.6f to %.6f eV, mean %.6f eV", energyRange.lowerBound, energyRange.upperBound,
                                energySum / Double(max(withEnergy, 1))))
        }
        let elements = PeriodicTable.inTableOrder(Array(atomsPerElement.keys))
        lines.append("elements: " + elements.map { "\($0) \(atomsPerElement[$0] ?? 0) atoms in \(structuresPerElement[$0] ?? 0) structures" }
            .joined(separator: ", "))
        lines.append(atomsPerSite.isEmpty ? "site labels: none (every atom is grouped by its element)"
                     : "site labels: " + atomsPerSite.keys.sorted().map { "\($0) \(atomsPerSite[$0] ?? 0)" }.joined(separator: ", "))
        return lines
    }
}
