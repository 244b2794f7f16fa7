/// The first structures of a data set, which the checks at the start of a run look at (atoms
/// that 2-D images merge, how far atoms interact) so that they cost little on a large data set.
/// They are read when first asked for and then kept, so each is read once however many checks
/// look; what is kept is bounded (`count` structures of at most `largestStructure` real atoms).
public final class LeadingStructures {
    /// Structures looked at: the first ones.
    public static let count = 200
    /// Structures with more real atoms than this are left out (the checks compare all pairs).
    public static let largestStructure = 2_000

    /// One kept structure and where it is in the data.
    public struct Sampled: Sendable {
        /// Its index in the data (0-based).
        public let index: Int
        /// The structure as read, or only its real atoms when the dummy atoms took it over
        /// `largestStructure` atoms (then `whole` is false).
        public let structure: Structure
        public let whole: Bool
    }

    private let store: any StructureStore
    private var kept: [Sampled]?

    public init(_ store: any StructureStore) { self.store = store }

    /// The first `count` structures with at most `largestStructure` real atoms, read on the
    /// first call.
    public func structures() throws -> [Sampled] {
        if let kept { return kept }
        var sample: [Sampled] = []
        for index in 0..<min(store.count, Self.count) {
            let structure = try store.structure(index)
            if structure.count <= Self.largestStructure {
                sample.append(Sampled(index: index, structure: structure, whole: true))
                continue
            }
            let real = structure.realAtoms
            guard real.count <= Self.largestStructure else { continue }
            let reduced = Structure(symbols: real.map { structure.symbols[$0] }, positions: real.map { structure.positions[$0] })
            sample.append(Sampled(index: index, structure: reduced, whole: false))
        }
        kept = sample
        return sample
    }
}
