import Basics
import Networks
import Structures

/// Each `DecompositionMethod` mapped to its code: the one place a model kind's way of being
/// explained (named by its recipe in `Networks`, which cannot see this module) becomes code.
extension SiteDecomposer {
    /// The decomposition of an ensemble by its kind's method. `contributions[m][i]` are member
    /// m's item contributions for structure i (used by the per-atom split).
    /// `progress` makes the meter of the swaps (given how many structures × members they take).
    /// `measured`: the swaps already measured (e.g. shared out over ranks), one energy list per
    /// member in `members` order; without it they are measured here.
    public static func decompose(_ members: [EnergyModel], structures: StructureStore, contributions: [[[Double]]],
                                 measured: SwapMeasurements? = nil,
                                 progress: ((_ structureCount: Int) -> ProgressMeter)? = nil) throws -> Decomposition {
        guard let kind = members.first?.modelDescription.architecture.kind else { throw DecompositionError("no members to decompose") }
        let swapped = { try measured.map { try swaps(members, measured: $0) } ?? swaps(members, structures: structures, progress: progress) }
        var decomposition: Decomposition
        switch kind.decompositionMethod {
        case .readOff: decomposition = try sites(members, elements: structures.elements)
        case .swaps: decomposition = try swapped()
        case .swapsAndAtomSplit:
            decomposition = try swapped()
            decomposition.perAtom = try atomicSplit(structures: structures, contributions: contributions)
        }
        decomposition.memberNumbers = memberNumbers(members)
        return decomposition
    }

    /// Each member's number in its run (its position when it has no training record).
    public static func memberNumbers(_ members: [EnergyModel]) -> [Int] {
        members.enumerated().map { $0.element.modelDescription.training?.member ?? $0.offset }
    }

    /// The decomposition of an ensemble whose kind needs no structures (`readOff`), over the
    /// elements the members were trained on; nil for a kind that needs them.
    public static func decomposeWithoutStructures(_ members: [EnergyModel]) throws -> Decomposition? {
        guard let first = members.first, first.modelDescription.architecture.kind.decompositionMethod == .readOff,
              let known = first.encoder.knownElements else { return nil }
        var decomposition = try sites(members, elements: PeriodicTable.inTableOrder(known))
        decomposition.memberNumbers = memberNumbers(members)
        return decomposition
    }
}
