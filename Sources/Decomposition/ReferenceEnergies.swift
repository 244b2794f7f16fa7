import Networks
import Structures

/// Per-element reference energies μ_e fitted by least squares on composition, E ≈ Σ_e n_e·μ_e,
/// as machine-learning potentials fit them before learning the rest.
///
/// When the composition does not determine every μ_e (e.g. every structure has one O atom and the
/// same number of metal atoms), a tiny ridge term picks the smallest-norm solution; the split of
/// a constant between such elements is a convention, not something the data says.
public struct ReferenceEnergies: Codable, Sendable, Equatable {
    /// μ_e in eV per atom.
    public let values: [String: Double]
    /// What was fitted: "targets" or "ensemble-mean predictions".
    public let fittedTo: String

    /// Fits μ to `energies[i]` of `structures[i]` (dummy atoms X are not counted).
    public init(structures: [Structure], energies: [Double], fittedTo: String) throws {
        try self.init(structures: LoadedStructures(structures), energies: energies, fittedTo: fittedTo)
    }

    /// Fits μ to `energies[i]` of structure i of a store, reading one structure at a time.
    public init(structures: StructureStore, energies: [Double], fittedTo: String) throws {
        let elements = structures.elements
        let k = elements.count
        guard k > 0, structures.count == energies.count, structures.count > 0 else {
            throw DecompositionError("reference energies need structures with atoms and one energy each")
        }
        let column = Dictionary(uniqueKeysWithValues: elements.enumerated().map { ($1, $0) })
        // Normal equations AᵀA μ = Aᵀy, with A the composition counts.
        var normal = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        var right = [Double](repeating: 0, count: k)
        for (index, energy) in energies.enumerated() {
            var counts = [Double](repeating: 0, count: k)
            for symbol in try structures.structure(index).symbols { if let c = column[symbol] { counts[c] += 1 } }
            for a in 0..<k where counts[a] != 0 {
                right[a] += counts[a] * energy
                for b in 0..<k { normal[a][b] += counts[a] * counts[b] }
            }
        }
        let trace = (0..<k).map { normal[$0][$0] }.reduce(0, +)
        for a in 0..<k { normal[a][a] += 1e-9 * max(trace, 1) / Double(k) }
        // The small k × k system (positive definite with the ridge) goes to LAPACK as the rest do.
        let solution = try LinearLeastSquares(rows: normal, targets: right).coefficients
        values = Dictionary(uniqueKeysWithValues: zip(elements, solution))
        self.fittedTo = fittedTo
    }

    /// The reference part of a structure's energy, Σ_atoms μ_e.
    public func energy(of structure: Structure) -> Double {
        structure.symbols.reduce(0) { $0 + (values[$1] ?? 0) }
    }
}

/// A decomposition that cannot be made from what it was given.
public struct DecompositionError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
