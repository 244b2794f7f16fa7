/// The features of the linear baseline for labelled structures: a constant, then how many atoms
/// of each element sit at each site label. For a site table (one atom per site) it is the
/// one-hot encoding per site × element, so a least-squares fit on it is the additive model
/// E = c₀ + Σ_s c(s, e_s) that the `sites` network's decomposition reads off.
public struct SiteElementCounts: Sendable {
    /// The (site, element) pairs, in sorted order: one column each after the constant.
    public let columns: [String]
    private let position: [String: Int]

    /// Nil when some structure has no site labels (nothing to count by).
    public init?(_ structures: [Structure]) {
        guard !structures.isEmpty, structures.allSatisfy({ $0.siteLabels != nil }) else { return nil }
        var seen: Set<String> = []
        for structure in structures { seen.formUnion(Self.keys(structure)) }
        columns = seen.sorted()
        position = Dictionary(uniqueKeysWithValues: columns.enumerated().map { ($0.element, $0.offset + 1) })
    }

    /// A constant 1, then the count of each (site, element) pair (pairs not seen when fitted are dropped).
    public func features(_ structure: Structure) -> [Double] {
        var row = [Double](repeating: 0, count: columns.count + 1)
        row[0] = 1
        for key in Self.keys(structure) { if let column = position[key] { row[column] += 1 } }
        return row
    }

    private static func keys(_ structure: Structure) -> [String] {
        let labels = structure.groupingLabels
        return structure.symbols.indices.filter { !Structure.isDummy(structure.symbols[$0]) }.map { "\(labels[$0]) \(structure.symbols[$0])" }
    }
}
