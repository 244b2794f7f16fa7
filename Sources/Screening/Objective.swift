import Foundation

/// What a screen looks for. Each candidate gets an objective value from the ensemble means and
/// a spread of that value from the members; `Ranking` turns both into the score it sorts by.
public enum Objective: Sendable, Equatable, Codable {
    /// The lowest (strongest binding) energy of the first run.
    case min
    /// The highest energy of the first run.
    case max
    /// The energy of the first run nearest `target` eV: objective |mean − target|, smallest first.
    case target(Double)
    /// The largest |departure| from the scaling line y = a + b·x fitted on the training rows the
    /// first two runs share (x: first run, y: second): objective |ȳ − a − b·x̄|, largest first.
    case scalingDeparture
    /// A weighted sum of the first runs' energies, Σ_r w_r·mean_r, smallest first: one weight per
    /// run in `--run` order (`weighted:1,-1`: binds the first adsorbate strongly, the second weakly).
    case weighted([Double])

    /// At most this many weights (as many runs as `screen` takes), each within ±`weightLimit`.
    public static let weightCountLimit = 8
    public static let weightLimit = 1000.0

    /// Parses `min|max|target:EV|scaling-departure|weighted:W1,W2,...`.
    public init(parsing text: String) throws {
        switch text {
        case "min": self = .min
        case "max": self = .max
        case "scaling-departure": self = .scalingDeparture
        default:
            if text.hasPrefix("weighted:") {
                self = .weighted(try Self.weights(String(text.dropFirst("weighted:".count))))
            } else if text.hasPrefix("target:"), let value = Double(text.dropFirst("target:".count)), value.isFinite, abs(value) <= 1e6 {
                self = .target(value)
            } else {
                throw ScreenError("--objective: '\(text)'; allowed: min, max, target:EV (a finite energy, |EV| ≤ 1e6), scaling-departure, "
                                  + "weighted:W1,W2,... (one weight per --run)")
            }
        }
    }

    /// The weights of `weighted:`, checked: 1...8 finite numbers within ±1000, not all zero.
    static func weights(_ text: String) throws -> [Double] {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...weightCountLimit).contains(fields.count) else {
            throw ScreenError("--objective weighted: 1 to \(weightCountLimit) comma-separated weights, one per --run; \(fields.count) given")
        }
        let weights = try fields.map { field -> Double in
            guard let weight = Double(field.trimmingCharacters(in: .whitespaces)), weight.isFinite, abs(weight) <= weightLimit else {
                throw ScreenError("--objective weighted: '\(field)' is not a number within ±\(Int(weightLimit))")
            }
            return weight
        }
        guard weights.contains(where: { $0 != 0 }) else { throw ScreenError("--objective weighted: every weight is 0") }
        return weights
    }

    /// Whether larger objective values are better.
    public var largerIsBetter: Bool {
        switch self { case .max, .scalingDeparture: true; case .min, .target, .weighted: false }
    }

    /// The runs the objective reads.
    public var runsNeeded: Int {
        switch self {
        case .scalingDeparture: 2
        case .weighted(let weights): weights.count
        case .min, .max, .target: 1
        }
    }

    public var name: String {
        switch self {
        case .min: "min"
        case .max: "max"
        case .target(let value): "target:\(value)"
        case .scalingDeparture: "scaling-departure"
        case .weighted(let weights): "weighted:" + weights.map { "\($0)" }.joined(separator: ",")
        }
    }
}

/// The rule a screen ranks by: score = objective ∓ κ·std, the sign chosen so that a spread
/// counts against a candidate (a lower confidence bound for "larger is better", an upper one
/// for "smaller is better"); κ = 0 ranks by the ensemble mean alone.
public struct Ranking: Sendable, Equatable, Codable {
    public static let kappaRange = 0.0...10.0
    public let objective: Objective
    public let kappa: Double

    public init(objective: Objective, kappa: Double) throws {
        guard kappa.isFinite, Self.kappaRange.contains(kappa) else {
            throw ScreenError("--kappa \(kappa): must be within \(Self.kappaRange.lowerBound)...\(Self.kappaRange.upperBound)")
        }
        self.objective = objective
        self.kappa = kappa
    }

    /// The score candidates are sorted by, larger first.
    @inline(__always) public func score(objective value: Double, std: Double) -> Double {
        objective.largerIsBetter ? value - kappa * std : -(value + kappa * std)
    }

    /// The rule in words, as the command prints it and the outputs record it.
    public var statement: String {
        let sign = objective.largerIsBetter ? "−" : "+"
        let order = objective.largerIsBetter ? "largest first" : "smallest first"
        return kappa == 0 ? "ranked by the ensemble-mean objective, \(order)"
            : "ranked by objective \(sign) \(kappa)·std (a \(objective.largerIsBetter ? "lower" : "upper") confidence bound), \(order)"
    }
}

/// The linear scaling line y = intercept + slope·x between two adsorbates' energies.
public struct ScalingLine: Sendable, Equatable, Codable {
    public let intercept: Double
    public let slope: Double
    /// The training rows (x, y) the line was fitted on: occupations in both runs' data.
    public let pairs: [[Double]]

    /// Least squares on the occupations both runs' data hold (their energies averaged per occupation).
    public static func fit(x: ScreenedRun, y: ScreenedRun) throws -> ScalingLine {
        func averaged(_ run: ScreenedRun) -> [[String]: Double] {
            var sums: [[String]: (Double, Int)] = [:]
            for (row, energy) in zip(run.rows, run.energies) { sums[row, default: (0, 0)].0 += energy; sums[row, default: (0, 0)].1 += 1 }
            return sums.mapValues { $0.0 / Double($0.1) }
        }
        let xs = averaged(x), ys = averaged(y)
        let pairs = xs.keys.filter { ys[$0] != nil }.sorted { $0.joined(separator: ",") < $1.joined(separator: ",") }
            .compactMap { key in xs[key].flatMap { a in ys[key].map { [a, $0] } } }
        guard pairs.count >= 3 else {
            throw ScreenError("scaling-departure fits the \(x.name)–\(y.name) line on occupations both runs' data hold; they share \(pairs.count) (at least 3 needed)")
        }
        let n = Double(pairs.count)
        let mx = pairs.map { $0[0] }.reduce(0, +) / n, my = pairs.map { $0[1] }.reduce(0, +) / n
        let sxx = pairs.map { ($0[0] - mx) * ($0[0] - mx) }.reduce(0, +)
        let sxy = pairs.map { ($0[0] - mx) * ($0[1] - my) }.reduce(0, +)
        guard sxx > 1e-12 else { throw ScreenError("the \(x.name) energies of the shared occupations do not vary: no scaling line") }
        let slope = sxy / sxx
        return ScalingLine(intercept: my - slope * mx, slope: slope, pairs: pairs)
    }
}

extension Objective {
    /// The objective's signed linear part from each run's value (energies, or one site's
    /// shares of them): the first run's for min/max/target, Σ w·value for weighted, and
    /// y − slope·x for the scaling departure (its intercept is not a share: `signedValue` adds it).
    public func linearPart(_ values: [Double], slope: Double) -> Double {
        switch self {
        case .min, .max, .target: values[0]
        case .weighted(let weights): zip(weights, values).reduce(0) { $0 + $1.0 * $1.1 }
        case .scalingDeparture: values[1] - slope * values[0]
        }
    }

    /// A candidate's signed value v from its runs' means: the objective is v, |v − target| or |v|.
    public func signedValue(means: [Double], line: ScalingLine?) -> Double {
        linearPart(means, slope: line?.slope ?? 0) - (self == .scalingDeparture ? line?.intercept ?? 0 : 0)
    }

    /// The sign of a change of v's effect on the objective at the signed value `v`.
    public func direction(atSignedValue v: Double) -> Double {
        switch self {
        case .min, .max, .weighted: 1
        case .target(let target): v >= target ? 1 : -1
        case .scalingDeparture: v >= 0 ? 1 : -1
        }
    }
}
