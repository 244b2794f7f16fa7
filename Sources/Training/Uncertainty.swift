import Basics
import Foundation

/// The one owner of the ensemble's interval maths: how a 95 % interval is made from the
/// members' spread, and how its scale is fitted on validation structures (Docs/Method.md,
/// "Uncertainty").
///
/// With K members of mean μ and sample standard deviation σ, a new truth that behaved like one
/// more member would give z = (y − μ) / (σ √(1 + 1/K)) a Student-t distribution with K − 1
/// degrees of freedom, and μ ± t₀.₉₇₅(K − 1) · √(1 + 1/K) · σ would hold it 95 % of the time.
/// Members share inputs and biases, so real errors are neither that small nor that shaped: the
/// spread is scaled by s, fitted on validation structures no kept member trained on. With n ≥ 19
/// of them s is split-conformal: the ⌈0.95 (n + 1)⌉-th smallest |z| over t₀.₉₇₅(K − 1), which
/// holds a new structure exchangeable with them with probability at least 95 % whatever the
/// errors' shape (heavy tails included, where matching a t's median undercovers). With 5–18, too
/// few for that quantile, s matches the median: median|z| / t₀.₇₅(K − 1).
public struct IntervalCalibration: Codable, Sendable, Equatable {
    /// The factor s on the spread (1 when not calibrated).
    public var scale: Double
    /// The validation structures s was fitted on (no member kept in the ensemble trained on
    /// them); 0 when there were too few (`minimumStructures`) and s is 1.
    public var structures: Int
    /// The members the spread is over (K); an interval needs at least 2.
    public var members: Int
    /// How s was fitted; nil in runs written before the conformal scale (they used the median).
    public var estimator: Estimator?

    /// How the scale s is fitted from the validation z-scores.
    public enum Estimator: String, Codable, Sendable {
        /// The split-conformal quantile: at least 95 % coverage of exchangeable structures.
        case conformal
        /// The median matched to the t distribution's: for too few structures for the quantile.
        case median
    }

    /// The fewest validation structures a scale is fitted on.
    public static let minimumStructures = 5
    /// The fewest for the conformal quantile: ⌈0.95 (n + 1)⌉ ≤ n from n = 19 on.
    public static let conformalStructures = 19
    /// The interval's probability.
    public static let level = 0.95

    public init(scale: Double, structures: Int, members: Int, estimator: Estimator? = nil) {
        self.scale = scale
        self.structures = structures
        self.members = members
        self.estimator = estimator
    }

    /// The scale fitted on `structures`' targets, ensemble means and spreads (the estimators
    /// above); scale 1 and `structures` 0 with fewer than `minimumStructures`.
    public static func fitted(targets: [Double], means: [Double], stds: [Double], members: Int) -> IntervalCalibration {
        let count = min(targets.count, means.count, stds.count)
        guard members >= 2, count >= minimumStructures else { return IntervalCalibration(scale: 1, structures: 0, members: members) }
        let inflation = (1 + 1 / Double(members)).squareRoot()
        let z = (0..<count).map { i -> Double in
            let error = abs(targets[i] - means[i])
            guard stds[i] > 0 else { return error > 0 ? .infinity : 0 }
            return error / (stds[i] * inflation)
        }.sorted()
        let degrees = Double(members - 1)
        let estimator: Estimator = count >= conformalStructures ? .conformal : .median
        let scale: Double
        switch estimator {
        case .conformal:
            // ⌈0.95 (n + 1)⌉ in integers, so no rounding of 0.95 moves the rank.
            let rank = (95 * (count + 1) + 99) / 100
            // The last factor keeps that structure inside once halfWidth multiplies t back (rounding).
            scale = z[rank - 1] / StudentT.quantile(0.5 + level / 2, degreesOfFreedom: degrees) * (1 + 1e-12)
        case .median:
            scale = (median(z) ?? .nan) / StudentT.quantile(0.75, degreesOfFreedom: degrees)
        }
        // A spread of zero where the error is not leaves no finite scale: the interval stays uncalibrated.
        guard scale.isFinite, scale > 0 else { return IntervalCalibration(scale: 1, structures: 0, members: members) }
        return IntervalCalibration(scale: scale, structures: count, members: members, estimator: estimator)
    }

    /// Half the width of the 95 % interval for a spread σ; nil with fewer than 2 members.
    public func halfWidth(std: Double) -> Double? {
        guard members >= 2 else { return nil }
        let k = Double(members)
        return scale * StudentT.quantile(0.5 + Self.level / 2, degreesOfFreedom: k - 1) * (1 + 1 / k).squareRoot() * std
    }

    /// How the interval was made, for the console and the docs of `lo95`/`hi95`.
    public var summary: String {
        guard members >= 2 else { return "no 95 % interval: it needs at least 2 members" }
        let interval = "lo95/hi95 = mean ± \(String(format: "%.3g", scale)) · t(0.975, \(members - 1) dof) · √(1 + 1/\(members)) · std"
        guard structures > 0 else {
            return interval + " (not calibrated: fewer than \(Self.minimumStructures) validation structures no kept member trained on; --validation-split shared holds one out for all members)"
        }
        let how = estimator == .conformal ? "the split-conformal 95 % quantile of |z| over"
            : "the median |z| (too few for the conformal quantile, which needs \(Self.conformalStructures)) over"
        return interval + " (scale: \(how) \(structures) validation structures no kept member trained on)"
    }

    /// What is wrong with a recorded calibration of a run of `ensemble` members.
    func problem(ensemble: Int) -> String? {
        guard scale.isFinite, scale > 0 else { return "scale \(scale); must be positive" }
        guard structures >= 0 else { return "structures \(structures); must not be negative" }
        guard (1...ensemble).contains(members) else { return "members \(members); must be in 1...\(ensemble)" }
        return nil
    }
}

/// The Student-t distribution's quantiles, from its density integrated numerically (Simpson)
/// and bisection: enough for interval half-widths, no special-function library needed.
public enum StudentT {
    /// The p-quantile (p in (0.5, 1)) with ν degrees of freedom (ν > 0; `.infinity`: normal).
    public static func quantile(_ p: Double, degreesOfFreedom nu: Double) -> Double {
        precondition(p > 0.5 && p < 1 && nu > 0, "StudentT.quantile needs p in (0.5, 1) and ν > 0")
        var (low, high) = (0.0, 1.0)
        while centralMass(high, nu) < p - 0.5 { high *= 2 }
        for _ in 0..<60 {
            let mid = (low + high) / 2
            if centralMass(mid, nu) < p - 0.5 { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    /// P(0 ≤ T ≤ x) for x ≥ 0. The density is integrated in u = atan(t), where it is smooth
    /// and bounded for every ν, so Simpson's rule converges over the whole range.
    static func centralMass(_ x: Double, _ nu: Double) -> Double {
        let logNormaliser = nu.isInfinite ? -0.5 * log(2 * Double.pi)
            : lgamma((nu + 1) / 2) - lgamma(nu / 2) - 0.5 * log(nu * Double.pi)
        func density(_ u: Double) -> Double {  // f(tan u) · d(tan u)/du
            let t = tan(u), jacobian = 1 + t * t
            let logKernel = nu.isInfinite ? -t * t / 2 : -(nu + 1) / 2 * log1p(t * t / nu)
            return exp(logNormaliser + logKernel) * jacobian
        }
        let end = atan(x), steps = 2000
        let h = end / Double(steps)
        var sum = density(0) + density(end)
        for i in 1..<steps { sum += density(Double(i) * h) * (i % 2 == 1 ? 4 : 2) }
        return sum * h / 3
    }
}

/// How well an uncertainty tracks the error: Spearman's rank correlation (ties get their mean
/// rank); nil with fewer than 3 pairs or a constant side.
public func spearmanCorrelation(_ x: [Double], _ y: [Double]) -> Double? {
    guard x.count == y.count, x.count >= 3 else { return nil }
    let (rx, ry) = (ranks(x), ranks(y))
    let (mx, my) = (rx.reduce(0, +) / Double(rx.count), ry.reduce(0, +) / Double(ry.count))
    var (sxy, sxx, syy) = (0.0, 0.0, 0.0)
    for i in rx.indices {
        sxy += (rx[i] - mx) * (ry[i] - my)
        sxx += (rx[i] - mx) * (rx[i] - mx)
        syy += (ry[i] - my) * (ry[i] - my)
    }
    guard sxx > 0, syy > 0 else { return nil }
    return sxy / (sxx * syy).squareRoot()
}

/// Ranks from 1, tied values sharing the mean of their ranks.
func ranks(_ values: [Double]) -> [Double] {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var result = [Double](repeating: 0, count: values.count)
    var start = 0
    while start < order.count {
        var end = start
        while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
        for k in start...end { result[order[k]] = Double(start + end) / 2 + 1 }
        start = end + 1
    }
    return result
}
