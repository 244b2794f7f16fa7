/// The ensemble-mean objective's linear part written as a sum over sites: v = constant +
/// Σ_s g[s][d_s] over each site's allowed elements (d: digit). The ensemble mean of additive
/// members is additive, and so is the departure from a scaling line (ȳ − a − b·x̄), so the
/// mean objective's range, its optimum and each site's share of a candidate come from g.
public struct AdditiveObjective: Sendable {
    public let space: CandidateSpace
    public let objective: Objective
    public let constant: Double
    /// g[s][d] in eV.
    public let g: [[Double]]

    public init(space: CandidateSpace, runs: [ScreenedRun], objective: Objective, line: ScalingLine?) throws {
        func meanColumn(_ run: ScreenedRun) throws -> [[Double]] {
            guard let tables = run.tables else { throw ScreenError("run \(run.name) is not a sites run: its objective is not a sum over sites") }
            let mean = tables.meanTable
            return try space.sites.indices.map { s in
                try space.allowed[s].map { e in
                    guard let column = tables.elements.firstIndex(of: space.elements[e]) else { throw ScreenError("run \(run.name) never saw \(space.elements[e])") }
                    return mean[s][column]
                }
            }
        }
        guard runs.count >= objective.runsNeeded else { throw ScreenError("--objective \(objective.name) needs \(objective.runsNeeded) runs") }
        let x = try meanColumn(runs[0])
        switch objective {
        case .scalingDeparture:
            guard let line else { throw ScreenError("scaling-departure needs the fitted scaling line") }
            let y = try meanColumn(runs[1])
            g = zip(x, y).map { xs, ys in zip(xs, ys).map { $1 - line.slope * $0 } }
            constant = -line.intercept
        case .weighted(let weights):
            let columns = try runs.prefix(weights.count).map(meanColumn)
            g = space.sites.indices.map { s in
                space.allowed[s].indices.map { d in zip(weights, columns).reduce(0) { $0 + $1.0 * $1.1[s][d] } }
            }
            constant = 0
        case .min, .max, .target:
            g = x
            constant = 0
        }
        self.space = space; self.objective = objective
    }

    /// The objective of a signed value v.
    public func objectiveValue(_ v: Double) -> Double {
        switch objective {
        case .min, .max, .weighted: v
        case .target(let target): abs(v - target)
        case .scalingDeparture: abs(v)
        }
    }

    /// v for an occupation's digits.
    public func value(_ digits: [Int]) -> Double {
        digits.enumerated().reduce(constant) { $0 + g[$1.offset][$1.element] }
    }

    /// The range of the objective over the whole space (windows ignored: a superset).
    public var objectiveRange: ClosedRange<Double> {
        let low = constant + g.map { $0.min() ?? 0 }.reduce(0, +)
        let high = constant + g.map { $0.max() ?? 0 }.reduce(0, +)
        switch objective {
        case .min, .max, .weighted: return low...high
        case .target(let t): return (t >= low && t <= high ? 0 : min(abs(low - t), abs(high - t)))...max(abs(low - t), abs(high - t))
        case .scalingDeparture: return (low <= 0 && high >= 0 ? 0 : min(abs(low), abs(high)))...max(abs(low), abs(high))
        }
    }

    /// The best occupation of the ensemble-mean objective (κ = 0), honouring the count windows:
    /// a choice per site, or a dynamic programme over window counts. Nil for `target` (not a
    /// sum's extreme) and for windows no occupation meets.
    public func optimum() -> (digits: [Int], objective: Double)? {
        let candidates: [[Int]?]
        switch objective {
        case .min, .weighted: candidates = [extreme(largest: false)]
        case .max: candidates = [extreme(largest: true)]
        case .scalingDeparture: candidates = [extreme(largest: true), extreme(largest: false)]
        case .target: return nil
        }
        let found = candidates.compactMap { $0 }.map { ($0, objectiveValue(value($0))) }
        let better: ((digits: [Int], objective: Double), (digits: [Int], objective: Double)) -> Bool = { a, b in
            a.objective != b.objective ? (objective.largerIsBetter ? a.objective > b.objective : a.objective < b.objective)
                : space.index(of: a.digits) < space.index(of: b.digits)
        }
        return found.map { (digits: $0.0, objective: $0.1) }.sorted(by: better).first
    }

    /// Digits that make v largest (or smallest) within the windows: states are the counts of
    /// each window's element so far; each keeps its best partial sum and choices.
    func extreme(largest: Bool) -> [Int]? {
        let windowElements = space.windowElements
        var states: [[Int]: (sum: Double, digits: [Int])] = [[Int](repeating: 0, count: windowElements.count): (0, [])]
        for s in space.sites.indices {
            var next: [[Int]: (sum: Double, digits: [Int])] = [:]
            for (counts, partial) in states {
                for (d, e) in space.allowed[s].enumerated() {
                    var key = counts
                    for w in windowElements.indices where windowElements[w] == e { key[w] += 1 }
                    if zip(key, space.windows).contains(where: { $0 > $1.high }) { continue }
                    let sum = partial.sum + g[s][d]
                    if let held = next[key], largest ? held.sum >= sum : held.sum <= sum { continue }
                    next[key] = (sum, partial.digits + [d])
                }
            }
            states = next
        }
        let feasible = states.filter { zip($0.key, space.windows).allSatisfy { $0 >= $1.low } }.values
        return (largest ? feasible.max { $0.sum < $1.sum } : feasible.min { $0.sum < $1.sum })?.digits
    }

    /// Each site's share of a candidate's v, centred on the site's mean over its allowed
    /// elements (only differences between elements at a site are identified), and its effect on
    /// the objective to first order (the sign of v's effect on |v| or |v − target| applied).
    public func siteShares(_ digits: [Int]) -> [(share: Double, effect: Double)] {
        let direction = objective.direction(atSignedValue: value(digits))
        return digits.enumerated().map { s, d in
            let centre = g[s].reduce(0, +) / Double(max(g[s].count, 1))
            let share = g[s][d] - centre
            return (share, direction * share)
        }
    }
}
