import Structures

/// Atoms that one 2-D single-channel image cannot tell apart: two atoms closer than σ in x–y
/// but apart in z (an adsorbate over the metal atom it binds to, a subsurface atom under a
/// surface one) project onto one blob, and with atom-centred patches get the same image.
/// 3-D images (`--depth`) or species channels keep them apart.
public enum ProjectionOverlap {
    /// Structures looked at (the first ones), so the check costs little on large data sets.
    public static let sampledStructures = 200
    /// Structures with more atoms than this are left out of the sample (all pairs are compared).
    public static let largestStructure = 2_000

    /// A warning naming how many sampled structures have such a pair and the first one, or nil
    /// when the images keep atoms apart (depth > 1 or species channels) or none is found.
    public static func warning(_ structures: StructureStore, settings: RasterSettings, sigma: Double) throws -> String? {
        guard settings.depth == 1, settings.channels == .single, sigma > 0, sigma.isFinite else { return nil }
        var affected = 0, sampled = 0
        var first: (structure: Int, a: Int, b: Int)?
        for index in 0..<min(structures.count, sampledStructures) {
            let structure = try structures.structure(index)
            guard structure.count <= largestStructure else { continue }
            sampled += 1
            if let pair = mergedPair(structure, sigma: sigma) {
                affected += 1
                first = first ?? (index, pair.0, pair.1)
            }
        }
        guard let first else { return nil }
        return "warning: 2-D single-channel images merge atoms that lie above one another: in \(affected) of the first \(sampled) "
            + "structures two atoms are within σ = \(sigma) Å in x–y but further apart in z (first: structure \(first.structure + 1), "
            + "atoms \(first.a + 1) and \(first.b + 1)); the model cannot tell them apart. --depth N (3-D images) or --channels species keeps them apart."
    }

    /// The first pair of real atoms closer than `sigma` in x–y and further than `sigma` apart in z.
    static func mergedPair(_ structure: Structure, sigma: Double) -> (Int, Int)? {
        let atoms = structure.realAtoms
        for (k, i) in atoms.enumerated() {
            for j in atoms[(k + 1)...] {
                let d = structure.positions[j] - structure.positions[i]
                if d.x * d.x + d.y * d.y < sigma * sigma && abs(d.z) > sigma { return (i, j) }
            }
        }
        return nil
    }
}
