/// Each site's share of a top candidate's objective for `atomic` runs, whose network splits a
/// prediction exactly over the atoms (the adsorbate marker is no item): a site's share is the
/// ensemble mean of its atom's contribution less that site's mean over the training rows, so it
/// says how far the candidate's atom there moves the energy from the site's usual, combined over
/// runs as the objective's linear part combines their energies (x for min/max/target, Σ w·E for
/// weighted, y − slope·x for the scaling departure). Cheap: one batched evaluation of the
/// training rows (at most `ExtrapolationCheck.spreadRowLimit`) and of the K top structures per
/// run. Centring on every element at the site instead would need a swap decomposition.
public struct AtomicSiteShares {
    let runs: [ImageEnsemblePredictor]
    let space: CandidateSpace
    let objective: Objective
    let line: ScalingLine?
    /// baselines[r][s]: run r's mean contribution of site s's atom over its training rows.
    let baselines: [[Double]]

    /// Nil unless every run the objective reads is an `atomic` run.
    public init?(runs: [ScreenedRun], space: CandidateSpace, objective: Objective, line: ScalingLine?) throws {
        let atomic = runs.compactMap { $0.predictor as? ImageEnsemblePredictor }.filter(\.itemsAreAtoms)
        guard atomic.count == runs.count, !atomic.isEmpty else { return nil }
        self.runs = atomic; self.space = space; self.objective = objective; self.line = line
        baselines = try zip(atomic, runs).map { predictor, run in
            let occupations = ExtrapolationCheck.evenlySpaced(run.rows).compactMap { row -> [Int]? in
                let indices = row.compactMap { space.elements.firstIndex(of: $0) }
                return indices.count == space.sites.count ? indices : nil
            }
            let perRow = try predictor.memberContributions(occupations, space: space).map { Self.siteMeans($0, sites: space.sites) }
            return space.sites.indices.map { s in perRow.reduce(0) { $0 + $1[s] } / Double(max(perRow.count, 1)) }
        }
    }

    /// The ensemble-mean contribution of each site's atom in one evaluated structure.
    static func siteMeans(_ split: (labels: [String], contributions: [[Double]]), sites: [String]) -> [Double] {
        sites.map { site in
            let items = split.labels.indices.filter { split.labels[$0] == site }
            let members = split.contributions.map { member in items.reduce(0) { $0 + member[$1] } }
            return members.reduce(0, +) / Double(max(members.count, 1))
        }
    }

    /// The shares of the candidate with `digits`, and their effect on the objective (the sign of
    /// its value's effect on |v| or |v − target| applied, as for `sites` runs).
    public func shares(candidate: ScoredCandidate, digits: [Int]) throws -> [(share: Double, effect: Double)] {
        let occupation = digits.enumerated().map { space.allowed[$0.offset][$0.element] }
        // perRun[r][s]: run r's ensemble-mean contribution of site s's atom, less its training mean.
        let perRun = try zip(runs, baselines).map { run, baseline -> [Double] in
            guard let split = try run.memberContributions([occupation], space: space).first else { return baseline.map { _ in 0 } }
            return zip(Self.siteMeans(split, sites: space.sites), baseline).map { $0 - $1 }
        }
        let direction = objective.direction(atSignedValue: objective.signedValue(means: candidate.means, line: line))
        let combined = space.sites.indices.map { s in objective.linearPart(perRun.map { $0[s] }, slope: line?.slope ?? 0) }
        return combined.map { ($0, direction * $0) }
    }
}
