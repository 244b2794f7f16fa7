import CBLAS

/// A linear model fitted by least squares (LAPACK's DGELSD from OpenBLAS): the baseline the
/// image models are measured against.
public struct LinearLeastSquares: Sendable, Equatable {
    /// One coefficient per column of the design matrix.
    public let coefficients: [Double]
    /// Numerical rank LAPACK found (columns that never vary, e.g. empty bins, lower it).
    public let rank: Int

    /// Singular values below this fraction of the largest are treated as zero (minimum-norm solution).
    public static let relativeCondition = 1e-10

    /// Fits `targets ≈ rows · coefficients`. Every row must have the same length.
    public init(rows: [[Double]], targets: [Double]) throws {
        let m = rows.count, n = rows.first?.count ?? 0
        guard m > 0, n > 0, targets.count == m, rows.allSatisfy({ $0.count == n }) else {
            throw NetworkError("least squares: need a non-empty rectangular design with one target per row (\(m) rows, \(targets.count) targets)")
        }
        guard m <= Int(Int32.max) / max(n, 1), rows.allSatisfy({ $0.allSatisfy(\.isFinite) }), targets.allSatisfy(\.isFinite) else {
            throw NetworkError("least squares: the design is too large for 32-bit LAPACK or holds a non-finite value")
        }
        // Column-major A (m × n); B holds the targets and, on return, the solution in its first n rows.
        var a = [Double](repeating: 0, count: m * n)
        for (i, row) in rows.enumerated() { for (j, value) in row.enumerated() { a[j * m + i] = value } }
        var b = targets + [Double](repeating: 0, count: max(0, n - m))
        var (mm, nn, nrhs, lda, ldb) = (Int32(m), Int32(n), Int32(1), Int32(m), Int32(max(m, n)))
        var singular = [Double](repeating: 0, count: min(m, n))
        var rcond = Self.relativeCondition, rank: Int32 = 0, info: Int32 = 0
        // Workspace query first (lwork = −1), then the solve.
        var query = [Double](repeating: 0, count: 1), iquery = [Int32](repeating: 0, count: 1), lwork: Int32 = -1
        dgelsd_(&mm, &nn, &nrhs, &a, &lda, &b, &ldb, &singular, &rcond, &rank, &query, &lwork, &iquery, &info)
        guard info == 0, query[0].isFinite, query[0] >= 1, query[0] < Double(Int32.max) else { throw NetworkError("least squares: DGELSD workspace query failed (info \(info))") }
        lwork = Int32(query[0])
        var work = [Double](repeating: 0, count: Int(lwork))
        var iwork = [Int32](repeating: 0, count: max(1, Int(iquery[0])))
        dgelsd_(&mm, &nn, &nrhs, &a, &lda, &b, &ldb, &singular, &rcond, &rank, &work, &lwork, &iwork, &info)
        guard info == 0 else { throw NetworkError("least squares: DGELSD did not converge (info \(info))") }
        coefficients = Array(b[..<n])
        self.rank = Int(rank)
    }

    /// The fitted value of one row.
    public func predict(_ row: [Double]) -> Double {
        zip(row, coefficients).reduce(0) { $0 + $1.0 * $1.1 }
    }
}
