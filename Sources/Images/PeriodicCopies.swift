import Foundation
import Structures

/// The periodic copies of a structure that can reach a box of grids: its atoms wrapped into
/// the cell along the periodic directions, and the lattice translations whose copies of them
/// can touch the box. Wrapping first keeps the number of copies independent of how far from
/// the cell an atom was written, and the count is checked against `RasterBudget`.
struct PeriodicCopies {
    /// Positions, wrapped along the periodic directions (unchanged when the cell is not periodic).
    let positions: [SIMD3<Double>]
    /// Lattice translations to add to every position (just zero when not periodic).
    let translations: [SIMD3<Double>]

    /// `low`…`high` bounds every grid point that will be rendered; `reach` is how far a
    /// Gaussian reaches (the cutoff). In 2D (`projected`) directions with no in-plane part are
    /// not repeated, since a projection along z would count them twice.
    init(_ structure: Structure, low: SIMD3<Double>, high: SIMD3<Double>, reach: Double, projected: Bool, wrap: Bool) throws {
        let vectors = wrap ? try Self.periodicVectors(structure, projected: projected) : []
        guard !vectors.isEmpty else {
            positions = structure.positions
            translations = [SIMD3(0, 0, 0)]
            return
        }
        let basis = try LatticeBasis(vectors)
        positions = structure.positions.map { basis.wrap($0) }
        // Along each vector, the fractional range the box (widened by the reach) covers; a
        // wrapped atom sits in [0, 1), so its copies i with i + [0, 1) meeting that range count.
        var ranges: [ClosedRange<Int>] = []
        var copies = 1.0
        for k in vectors.indices {
            var lowest = Double.infinity, highest = -Double.infinity
            for corner in 0..<8 {
                let point = SIMD3(corner & 1 == 0 ? low.x : high.x, corner & 2 == 0 ? low.y : high.y, corner & 4 == 0 ? low.z : high.z)
                let c = basis.fractional(point)[k]
                lowest = min(lowest, c)
                highest = max(highest, c)
            }
            let margin = reach / basis.heights[k]
            let first = (lowest - margin).rounded(.down) - 1, last = (highest + margin).rounded(.up)
            copies *= last - first + 1
            guard copies.isFinite, copies <= Double(RasterBudget.periodicCopies) else {
                let heights = basis.heights.map { String(format: "%.3g", $0) }.joined(separator: ", ")
                throw RasterError(field: "cell", message: "the periodic cell (heights \(heights) Å) repeated over the grids "
                                  + "(\(String(format: "%.3g", (high - low).max())) Å across) needs more than \(String(format: "%.3g", copies)) "
                                  + "periodic copies; the budget is \(RasterBudget.periodicCopies)")
            }
            ranges.append(Int(first)...Int(last))
        }
        var shifts: [SIMD3<Double>] = []
        shifts.reserveCapacity(Int(copies))
        func add(_ k: Int, _ partial: SIMD3<Double>) {
            if k == vectors.count { shifts.append(partial); return }
            for i in ranges[k] { add(k + 1, partial + Double(i) * vectors[k]) }
        }
        add(0, SIMD3(0, 0, 0))
        translations = shifts
    }

    static func periodicVectors(_ structure: Structure, projected: Bool) throws -> [SIMD3<Double>] {
        guard let cell = structure.cell else { return [] }
        var vectors: [SIMD3<Double>] = []
        for k in 0..<min(3, cell.count) where k < structure.pbc.count && structure.pbc[k] {
            var v = cell[k]
            if projected {
                v.z = 0
                if (v.x * v.x + v.y * v.y).squareRoot() < 1e-8 { continue }
            }
            vectors.append(v)
        }
        guard projected, vectors.count == 3 else { return vectors }
        // Three periodic vectors projected onto the plane: the third repeats nothing new when
        // its in-plane part is a whole-number combination of the first two; otherwise the
        // projected copies form no 2D lattice at all.
        let plane = try LatticeBasis(Array(vectors.prefix(2)))
        let c = plane.fractional(vectors[2])
        guard c.allSatisfy({ abs($0 - $0.rounded()) < 1e-6 }) else {
            throw RasterError(field: "cell", message: "a periodic third lattice vector with an in-plane part (\(vectors[2].x), \(vectors[2].y)) Å "
                              + "that is not a lattice vector of the first two cannot be projected along z; use --depth > 1")
        }
        return Array(vectors.prefix(2))
    }
}

/// Up to three independent lattice vectors: heights, fractional coordinates (of a point's
/// projection onto their span) and wrapping into the cell.
struct LatticeBasis {
    let vectors: [SIMD3<Double>]
    /// Each vector's distance to the span of the others: how far one step along it moves.
    let heights: [Double]
    /// The inverse of the Gram matrix VVᵀ, row by row.
    let inverseGram: [[Double]]

    init(_ vectors: [SIMD3<Double>]) throws {
        self.vectors = vectors
        let whole = Lattice.gramDeterminant(vectors)
        heights = Lattice.heights(vectors)
        // The reader asks more of a file's cell (ExtXYZ.Limits.latticeHeight); this is only what
        // inverting the Gram matrix needs, for structures built in code.
        guard whole > 1e-12, heights.allSatisfy({ $0 > 1e-6 }) else {
            throw RasterError(field: "cell", message: "the periodic lattice vectors are degenerate (zero area or volume)")
        }
        let gram = vectors.map { a in vectors.map { b in (a * b).sum() } }
        inverseGram = Self.inverse(gram, determinant: whole)
    }

    /// Coefficients c with Σ cₖ vₖ the projection of `p` onto the vectors' span.
    func fractional(_ p: SIMD3<Double>) -> [Double] {
        let products = vectors.map { ($0 * p).sum() }
        return inverseGram.map { row in zip(row, products).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    /// `p` moved by whole lattice vectors so that its fractional coordinates lie in [0, 1);
    /// points already in the cell are returned unchanged.
    func wrap(_ p: SIMD3<Double>) -> SIMD3<Double> {
        var wrapped = p
        for (k, c) in fractional(p).enumerated() where c < 0 || c >= 1 {
            wrapped -= c.rounded(.down) * vectors[k]
        }
        return wrapped
    }

    /// The inverse of a symmetric 1×1, 2×2 or 3×3 matrix with the given (non-zero) determinant.
    static func inverse(_ m: [[Double]], determinant d: Double) -> [[Double]] {
        switch m.count {
        case 1: return [[1 / m[0][0]]]
        case 2: return [[m[1][1] / d, -m[0][1] / d], [-m[1][0] / d, m[0][0] / d]]
        default:
            func cofactor(_ i: Int, _ j: Int) -> Double {
                let rows = [0, 1, 2].filter { $0 != i }, columns = [0, 1, 2].filter { $0 != j }
                let minor = m[rows[0]][columns[0]] * m[rows[1]][columns[1]] - m[rows[0]][columns[1]] * m[rows[1]][columns[0]]
                return (i + j) % 2 == 0 ? minor : -minor
            }
            // The inverse is the transposed cofactor matrix over the determinant.
            return (0..<3).map { i in (0..<3).map { j in cofactor(j, i) / d } }
        }
    }
}
