/// The geometry of up to three lattice vectors, for the reader's cell checks and the
/// rasteriser's periodic copies alike (one computation, two thresholds: what a file may hold,
/// and what the rasteriser can invert).
public enum Lattice {
    /// Squared length, area or volume spanned by up to three vectors (their Gram determinant).
    public static func gramDeterminant(_ vs: [SIMD3<Double>]) -> Double {
        switch vs.count {
        case 0: return 1
        case 1: return (vs[0] * vs[0]).sum()
        case 2:
            let a = (vs[0] * vs[0]).sum(), b = (vs[0] * vs[1]).sum(), c = (vs[1] * vs[1]).sum()
            return a * c - b * b
        default:
            let a = vs[0], b = vs[1], c = vs[2]
            let cross = SIMD3(b.y * c.z - b.z * c.y, b.z * c.x - b.x * c.z, b.x * c.y - b.y * c.x)
            let volume = (a * cross).sum()
            return volume * volume
        }
    }

    /// Each vector's distance to the span of the others (for one vector, its length): how far
    /// one step along it moves. 0 where the vectors are degenerate or the figures not finite.
    public static func heights(_ vectors: [SIMD3<Double>]) -> [Double] {
        let whole = gramDeterminant(vectors)
        return vectors.indices.map { k in
            var others = vectors
            others.remove(at: k)
            let rest = gramDeterminant(others)
            guard whole.isFinite, rest.isFinite, whole > 0, rest > 0 else { return 0 }
            return (whole / rest).squareRoot()
        }
    }
}
