import Basics
import Foundation

/// A linear-model descriptor of a structure: a constant, the atom count, and the number of atom
/// pairs whose distance falls in each bin of width `binWidth` up to `cutoff` (pairs beyond it are
/// not counted). A pair energy that is constant within each bin is exactly linear in it.
public struct PairDistanceHistogram: Sendable, Equatable {
    public let binWidth: Double
    public let cutoff: Double

    /// Bins at most this many (bounds what a cutoff/width pair can allocate per structure).
    public static let maximumBins = 100_000

    public init(binWidth: Double, cutoff: Double) throws {
        guard binWidth.isFinite, cutoff.isFinite, binWidth > 0, cutoff > 0, cutoff / binWidth <= Double(Self.maximumBins) else {
            throw DescriptorError("pair histogram: need 0 < bin width and cutoff / bin width ≤ \(Self.maximumBins), got width \(binWidth) Å, cutoff \(cutoff) Å")
        }
        self.binWidth = binWidth
        self.cutoff = cutoff
    }

    /// Distance bins (columns after the constant and the atom count).
    public var bins: Int { Int((cutoff / binWidth).rounded(.up)) }
    /// Columns of one row: constant, atom count, bins.
    public var columns: Int { 2 + bins }
    /// Column names, for tables.
    public var columnNames: [String] {
        ["constant", "atoms"] + (0..<bins).map { String(format: "pairs %.2f-%.2f Å", Double($0) * binWidth, min(Double($0 + 1) * binWidth, cutoff)) }
    }

    /// One row of the design matrix. Distances are between the atoms as given (no periodic images).
    public func features(of structure: Structure) -> [Double] {
        var row = [Double](repeating: 0, count: columns)
        row[0] = 1
        row[1] = Double(structure.positions.count)
        let positions = structure.positions
        for i in positions.indices {
            for j in positions.indices where j > i {
                let d = positions[i] - positions[j]
                let r = (d * d).sum().squareRoot()
                guard r.isFinite, r < cutoff else { continue }
                row[2 + min(bins - 1, Int(r / binWidth))] += 1
            }
        }
        return row
    }
}

/// A descriptor that cannot be built from its settings.
public struct DescriptorError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How far atoms in a data set interact, when the data does not say: the rule the `atomic`
/// model's patch is checked against (`--interaction-range` replaces it).
public enum InteractionRange {
    /// Neighbour distances beyond the nearest that the rule covers: twice the nearest-neighbour
    /// distance reaches the fourth shell of a close-packed crystal and 2.2 σ of a Lennard-Jones
    /// pair at its minimum (where |V| has fallen to 2 % of ε).
    public static let nearestNeighbourFactor = 2.0

    /// `nearestNeighbourFactor` × the median over atoms of the distance to the nearest other atom
    /// (direct distances, no periodic images), over the leading structures; nil when no sampled
    /// structure has two atoms.
    public static func estimate(_ leading: LeadingStructures) throws -> Double? {
        var nearest: [Double] = []
        for sampled in try leading.structures() {
            let structure = sampled.structure
            let positions = zip(structure.positions, structure.symbols).filter { !Structure.isDummy($0.1) }.map(\.0)
            guard positions.count >= 2 else { continue }
            for i in positions.indices {
                var best = Double.infinity
                for j in positions.indices where j != i {
                    let d = positions[i] - positions[j]
                    best = min(best, (d * d).sum().squareRoot())
                }
                if best.isFinite && best > 0 { nearest.append(best) }
            }
        }
        return median(nearest).map { nearestNeighbourFactor * $0 }
    }
}
