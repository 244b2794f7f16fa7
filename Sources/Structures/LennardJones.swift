import Basics

/// Random 2-D Lennard-Jones clusters with their energies: a built-in data set for the image
/// models, in the spirit of Ryczko et al.'s 2-D test systems.
public enum LennardJonesClusters {
    /// `count` clusters of 4…`maxAtoms` atoms placed in a `box`-Å square (z = 0), no two closer
    /// than `closest`·σ, with E = Σ_pairs 4ε[(σ/r)¹² − (σ/r)⁶] (ε = 1 eV, σ = 1 Å·`sigma`).
    /// The default keeps pairs out of the steep repulsive wall, so energies are smooth enough to
    /// learn from a few hundred images.
    public static func generate(count: Int, maxAtoms: Int = 12, box: Double = 5, sigma: Double = 1, closest: Double = 1.0,
                                seed: UInt64) -> [Structure] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let n = 4 + generator.nextIndex(below: max(1, maxAtoms - 3))
            var positions: [SIMD3<Double>] = []
            var attempts = 0
            while positions.count < n && attempts < 10_000 {
                attempts += 1
                let p = SIMD3(generator.uniform(0.5, box - 0.5), generator.uniform(0.5, box - 0.5), 0)
                if positions.allSatisfy({ (($0 - p) * ($0 - p)).sum() >= closest * closest * sigma * sigma }) { positions.append(p) }
            }
            var energy = 0.0
            for i in positions.indices {
                for j in positions.indices where j > i {
                    let r2 = ((positions[i] - positions[j]) * (positions[i] - positions[j])).sum()
                    let s6 = pow3(sigma * sigma / r2)
                    energy += 4 * (s6 * s6 - s6)
                }
            }
            return Structure(symbols: Array(repeating: "Ar", count: positions.count), positions: positions,
                             energy: energy, info: ["cluster": "\(index + 1)"])
        }
    }

    /// Å beyond which one pair's energy stays under 2 % of ε (|V(2.5 σ)| = 0.016 ε): the range the
    /// `atomic` patch is checked against on these clusters. The generator itself sums every pair.
    public static func interactionRange(sigma: Double = 1) -> Double { 2.5 * sigma }

    private static func pow3(_ x: Double) -> Double { x * x * x }
}
