/// Each site's share of a top candidate's objective for a model that gives one energy per
/// structure (`ryczko` and other image models), from swaps at the candidate: site s's share is
/// v(candidate) − the mean of v over the candidate with each element allowed at s put there (v:
/// the objective's signed value from the ensemble means). For an additive model this is exactly
/// the `sites` runs' share centred per site; here it is the local effect, interactions included.
/// A site with one allowed element (fixed) has share 0. Costs one evaluation per allowed
/// element and site per candidate and run, so only the first `candidateLimit` are decomposed.
public struct SwapSiteShares {
    /// The top candidates decomposed: 50 × 10 sites × 5 elements is 2 500 structures per run,
    /// a few seconds at a millisecond each.
    public static let candidateLimit = 50
    let predictors: [any EnsemblePredictor]
    let space: CandidateSpace
    let objective: Objective
    let line: ScalingLine?

    public init(runs: [ScreenedRun], space: CandidateSpace, objective: Objective, line: ScalingLine?) {
        predictors = runs.map(\.predictor); self.space = space; self.objective = objective; self.line = line
    }

    /// The shares of the candidate with `digits` and their effect on the objective (the sign of
    /// its value's effect on |v| or |v − target| applied, as for `sites` runs).
    public func shares(candidate: ScoredCandidate, digits: [Int]) throws -> [(share: Double, effect: Double)] {
        let occupation = digits.enumerated().map { space.allowed[$0.offset][$0.element] }
        // Every single-site variant, the candidate itself among them, in site order.
        var variants: [[Int]] = []
        for s in space.sites.indices {
            for element in space.allowed[s] {
                var variant = occupation
                variant[s] = element
                variants.append(variant)
            }
        }
        let means = try predictors.map { predictor in
            try predictor.memberPredictions(variants, space: space).map { $0.reduce(0, +) / Double(max($0.count, 1)) }
        }
        let values = variants.indices.map { k in objective.signedValue(means: means.map { $0[k] }, line: line) }
        let own = objective.signedValue(means: candidate.means, line: line)
        let direction = objective.direction(atSignedValue: own)
        var start = 0
        return space.sites.indices.map { s in
            let count = space.allowed[s].count
            let average = values[start..<(start + count)].reduce(0, +) / Double(count)
            start += count
            return (own - average, direction * (own - average))
        }
    }
}
