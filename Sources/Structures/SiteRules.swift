/// Where per-atom site labels come from when structures are read.
///
/// Species stand in for sites only when asked (`species`): a site that is defined by its element
/// has no element spread, so it says nothing about which element suits the site.
public enum SiteRule: String, Sendable, CaseIterable {
    /// The labels the source gives: an extxyz `site` column, or a site table's columns.
    case column
    /// Labels from geometry around the adsorbate: `binding`, `shell1`, `subsurface`, `other`, `adsorbate`.
    case adsorbateShells = "adsorbate-shells"
    /// Each atom's element as its site label.
    case species

    /// The structure with this rule's site labels (nil when the rule finds no site in it; the
    /// decomposition then names it). Throws the rule's problem when it cannot be applied.
    public func relabel(_ structure: Structure) throws(SiteRuleError) -> Structure {
        var relabelled = structure
        switch self {
        case .column: break
        case .species: relabelled.siteLabels = structure.symbols
        case .adsorbateShells: relabelled.siteLabels = try AdsorbateShells().labels(structure)
        }
        return relabelled
    }
}

/// Why a site rule cannot label a structure (the reader adds file, line and option).
public struct SiteRuleError: Error, Sendable {
    public let problem: String
}

/// Site labels from geometry around an adsorbate on a slab whose surface faces +z.
///
/// The adsorbate is every atom of an adsorbate-forming element (`adsorbateElements`, including
/// the dummy marker X); its binding atom is the one closest to a surface atom. The top layer is
/// the surface atoms within `layerTolerance` of the highest one, the subsurface layer the next.
/// `binding`: top-layer atoms as close to the binding atom as the closest one (within
/// `bindingTolerance`, so a hollow gives three); `shell1`: other top-layer atoms within
/// `shellFactor` nearest-neighbour distances of a binding atom; `subsurface`: layer-two atoms
/// as close; every other surface atom is `other`. Distances use the nearest periodic image.
public struct AdsorbateShells: Sendable {
    public static let adsorbateElements: Set<String> = [Structure.dummySymbol, "H", "B", "C", "N", "O", "F", "P", "S", "Cl", "Se", "Br", "I"]
    public var layerTolerance = 0.7
    public var bindingTolerance = 0.3
    public var shellFactor = 1.2
    /// Most atom pairs one structure's labelling may measure (each adsorbate atom against each
    /// surface atom, and the binding atoms against them): real adsorbates on slabs need a few
    /// thousand; this keeps a hostile frame from costing hours.
    public static let maximumPairs = 10_000_000

    public init() {}

    /// The labels of one structure, or nil when it has no adsorbate or no surface.
    public func labels(_ structure: Structure) throws(SiteRuleError) -> [String]? {
        let adsorbate = structure.symbols.indices.filter { Self.adsorbateElements.contains(structure.symbols[$0]) }
        let metal = structure.symbols.indices.filter { !Self.adsorbateElements.contains(structure.symbols[$0]) }
        guard !adsorbate.isEmpty, metal.count >= 2 else { return nil }
        // Binding atoms are surface atoms, so at most `metal.count` of them: (adsorbate + metal)
        // × metal bounds every distance measured below. Both counts are at most a frame's atoms.
        let pairs = (adsorbate.count + metal.count).multipliedReportingOverflow(by: metal.count)
        guard !pairs.overflow, pairs.partialValue <= Self.maximumPairs else {
            throw SiteRuleError(problem: "adsorbate-shells would measure \(adsorbate.count + metal.count) × \(metal.count) atom pairs in this frame "
                                + "(\(adsorbate.count) adsorbate-element atoms, \(metal.count) others); at most \(Self.maximumPairs) are allowed")
        }
        let distance = PeriodicDistance(structure)
        // The binding atom: the adsorbate atom closest to any surface atom.
        var anchor = adsorbate[0], closest = Double.infinity
        for a in adsorbate {
            for m in metal where distance(a, m) < closest { closest = distance(a, m); anchor = a }
        }
        let zTop = metal.map { structure.positions[$0].z }.max() ?? 0
        let top = metal.filter { structure.positions[$0].z >= zTop - layerTolerance }
        let below = metal.filter { structure.positions[$0].z < zTop - layerTolerance }
        let zSecond = below.map { structure.positions[$0].z }.max()
        let second = zSecond.map { z in below.filter { structure.positions[$0].z >= z - layerTolerance } } ?? []
        guard structure.positions[anchor].z > zTop - layerTolerance,
              let nearestTop = top.map({ distance(anchor, $0) }).min() else { return nil }
        let binding = top.filter { distance(anchor, $0) <= nearestTop + bindingTolerance }
        // The nearest-neighbour distance, measured from the binding atoms to the other metal atoms.
        let neighbourDistances = binding.flatMap { b in metal.filter { $0 != b }.map { distance(b, $0) } }
        guard let nearestNeighbour = neighbourDistances.min(), nearestNeighbour > 0 else { return nil }
        let reach = shellFactor * nearestNeighbour
        func touchesBinding(_ atom: Int) -> Bool { binding.contains { distance($0, atom) <= reach } }
        var labels = structure.symbols.map { Self.adsorbateElements.contains($0) ? "adsorbate" : "other" }
        for atom in top where !binding.contains(atom) && touchesBinding(atom) { labels[atom] = "shell1" }
        for atom in second where touchesBinding(atom) { labels[atom] = "subsurface" }
        for atom in binding { labels[atom] = "binding" }
        return labels
    }
}

/// Distances between atoms of one structure through the nearest periodic image (one cell
/// in each periodic direction, enough for cells at least twice the distances that matter).
struct PeriodicDistance {
    let positions: [SIMD3<Double>]
    let shifts: [SIMD3<Double>]

    init(_ structure: Structure) {
        positions = structure.positions
        var shifts: [SIMD3<Double>] = [SIMD3(0, 0, 0)]
        if let cell = structure.cell {
            for k in 0..<3 where structure.pbc[k] {
                shifts = shifts.flatMap { s in [s - cell[k], s, s + cell[k]] }
            }
        }
        self.shifts = shifts
    }

    func callAsFunction(_ a: Int, _ b: Int) -> Double {
        let d = positions[b] - positions[a]
        var nearest = Double.infinity
        for s in shifts { let v = d + s; nearest = min(nearest, (v * v).sum()) }
        return nearest.squareRoot()
    }
}
