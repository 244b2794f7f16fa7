/// The features of the linear baselines for labelled structures: a constant, then how many atoms
/// of each element sit at each site label. For a site table (one atom per site) it is the
/// one-hot encoding per site × element, so a least-squares fit on it is the additive model
/// E = c₀ + Σ_s c(s, e_s) that the `sites` network's decomposition reads off. With `pairwise`,
/// also for each label held by one atom in every structure (a slab's `binding` site) its
/// element × the counts at every other label: the binding element's interaction with its
/// neighbours' elements, which an additive fit cannot express.
public struct SiteElementCounts: Sendable {
    /// The (site, element) pairs and, with `pairwise`, the "A e × B f" products, in sorted
    /// order: one column each after the constant.
    public let columns: [String]
    private let position: [String: Int]
    /// Labels held by exactly one atom in every structure (the left side of pairwise columns).
    private let singleLabels: Set<String>

    /// Nil when some structure has no site labels (nothing to count by), or with `pairwise`
    /// when no label is held by one atom in every structure.
    public init?(_ structures: [Structure], pairwise: Bool = false) {
        guard !structures.isEmpty, structures.allSatisfy({ $0.siteLabels != nil }) else { return nil }
        var single: Set<String>?
        for structure in structures {
            let counts = Dictionary(structure.realAtomLabels.map { ($0, 1) }, uniquingKeysWith: +)
            let ones = Set(counts.filter { $0.value == 1 }.keys)
            single = single.map { $0.intersection(ones) } ?? ones
        }
        singleLabels = pairwise ? single ?? [] : []
        if pairwise && singleLabels.isEmpty { return nil }
        var seen: Set<String> = []
        for structure in structures { seen.formUnion(Self.keys(structure, singleLabels: singleLabels)) }
        columns = seen.sorted()
        position = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($0.element, $0.offset + 1) })
    }

    /// A constant 1, then each column's count (keys not seen when fitted are dropped).
    public func features(_ structure: Structure) -> [Double] {
        var row = [Double](repeating: 0, count: columns.count + 1)
        row[0] = 1
        for key in Self.keys(structure, singleLabels: singleLabels) { if let column = position[key] { row[column] += 1 } }
        return row
    }

    private static func keys(_ structure: Structure, singleLabels: Set<String>) -> [String] {
        let labels = structure.groupingLabels
        let atoms = structure.symbols.indices.filter { !Structure.isDummy(structure.symbols[$0]) }
        let first = atoms.map { "\(labels[$0]) \(structure.symbols[$0])" }
        var pairs: [String] = []
        for a in atoms where singleLabels.contains(labels[a]) {
            for b in atoms where b != a { pairs.append("\(labels[a]) \(structure.symbols[a]) × \(labels[b]) \(structure.symbols[b])") }
        }
        return first + pairs
    }
}

extension Structure {
    /// The grouping labels of the atoms that are not the dummy marker.
    var realAtomLabels: [String] {
        let labels = groupingLabels
        return symbols.indices.filter { !Structure.isDummy(symbols[$0]) }.map { labels[$0] }
    }
}
