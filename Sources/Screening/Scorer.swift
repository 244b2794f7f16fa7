/// Scores candidates of a space: per candidate, every member's prediction (for `sites` runs a
/// sum of one table entry per site in `scan`; otherwise from predictors in `scanBatched`), then
/// each run's mean and std, the objective and the ranking score. What one rank needs to scan
/// its block; it holds no candidates.
public struct Scorer: Sendable {
    public let space: CandidateSpace
    public let ranking: Ranking
    public let line: ScalingLine?
    /// Members per run, and where each run's members start in the flat member axis.
    let memberCounts: [Int]
    let memberStarts: [Int]
    let totalMembers: Int
    /// entries[s][d * totalMembers + j]: member j's value for the d-th allowed element at site s.
    let entries: [[Double]]

    public init(space: CandidateSpace, runs: [ScreenedRun], ranking: Ranking, line: ScalingLine?) throws {
        guard runs.count >= ranking.objective.runsNeeded else {
            throw ScreenError("--objective \(ranking.objective.name) needs \(ranking.objective.runsNeeded) runs (--run, one per adsorbate); \(runs.count) given")
        }
        guard ranking.objective != .scalingDeparture || line != nil else { throw ScreenError("scaling-departure needs the fitted scaling line") }
        var counts: [Int] = [], starts: [Int] = [], total = 0
        for run in runs {
            guard run.sites == space.sites else { throw ScreenError("run \(run.name) has sites \(run.sites), not \(space.sites)") }
            starts.append(total); counts.append(run.predictor.memberCount); total += run.predictor.memberCount
        }
        // Only runs that are all tables can be scanned by look-ups; others go through `scanBatched`.
        let tables = runs.compactMap(\.tables)
        let columns = try runs.compactMap { run -> [Int]? in
            guard let table = run.tables else { return nil }
            return try space.elements.map { element -> Int in
                guard let e = table.elements.firstIndex(of: element) else { throw ScreenError("run \(run.name) never saw \(element)") }
                return e
            }
        }
        entries = tables.count < runs.count ? [] : space.sites.indices.map { s in
            space.allowed[s].flatMap { e in
                tables.indices.flatMap { r in tables[r].values.map { $0[s][columns[r][e]] } }
            }
        }
        self.space = space; self.ranking = ranking; self.line = line
        memberCounts = counts; memberStarts = starts; totalMembers = total
    }

    /// Whether every run is a table (`scan` works); otherwise only `scanBatched` does.
    public var readsTables: Bool { entries.count == space.sites.count }

    /// Run r's member mean and sample std (n − 1) from the member sums.
    @inline(__always) func spread(ofRun r: Int, _ sums: UnsafeMutableBufferPointer<Double>) -> (mean: Double, std: Double) {
        let start = memberStarts[r], count = memberCounts[r]
        var mean = 0.0
        for j in start..<(start + count) { mean += sums[j] }
        mean /= Double(count)
        var squares = 0.0
        for j in start..<(start + count) { squares += (sums[j] - mean) * (sums[j] - mean) }
        return (mean, count > 1 ? (squares / Double(count - 1)).squareRoot() : 0)
    }

    /// The candidate given per-member predictions `sums` (flat member axis).
    @inline(__always) func candidate(index: Int, sums: UnsafeMutableBufferPointer<Double>) -> ScoredCandidate {
        var means: [Double] = [], stds: [Double] = []
        means.reserveCapacity(memberCounts.count); stds.reserveCapacity(memberCounts.count)
        for r in memberCounts.indices {
            let (mean, std) = spread(ofRun: r, sums)
            means.append(mean); stds.append(std)
        }
        let (value, std) = objective(means: means, stds: stds)
        return ScoredCandidate(index: index, score: ranking.score(objective: value, std: std), objective: value,
                               objectiveStd: std, means: means, stds: stds)
    }

    /// The objective and its spread straight from the member sums, without allocating (the
    /// objective reads the first two runs at most); the same arithmetic as `candidate`.
    @inline(__always) func quickObjective(_ sums: UnsafeMutableBufferPointer<Double>) -> (Double, Double) {
        let first = spread(ofRun: 0, sums)
        switch ranking.objective {
        case .min, .max: return first
        case .target(let target): return (abs(first.0 - target), first.1)
        case .weighted(let weights):
            var value = 0.0, variance = 0.0
            for r in weights.indices {
                let (mean, std) = r == 0 ? first : spread(ofRun: r, sums)
                value += weights[r] * mean; variance += weights[r] * weights[r] * std * std
            }
            return (value, variance.squareRoot())
        case .scalingDeparture: break
        }
        let second = spread(ofRun: 1, sums)
        let slope = line?.slope ?? 0, intercept = line?.intercept ?? 0
        return (abs(second.0 - intercept - slope * first.0), (second.1 * second.1 + slope * slope * first.1 * first.1).squareRoot())
    }

    /// The objective and its spread from each run's mean and std (the runs' members independent).
    public func objective(means: [Double], stds: [Double]) -> (Double, Double) {
        switch ranking.objective {
        case .min, .max: return (means[0], stds[0])
        case .target(let target): return (abs(means[0] - target), stds[0])
        case .weighted(let weights):
            return (zip(weights, means).reduce(0) { $0 + $1.0 * $1.1 },
                    zip(weights, stds).reduce(0) { $0 + $1.0 * $1.0 * $1.1 * $1.1 }.squareRoot())
        case .scalingDeparture:
            let slope = line?.slope ?? 0, intercept = line?.intercept ?? 0
            let departure = means[1] - intercept - slope * means[0]
            return (abs(departure), (stds[1] * stds[1] + slope * slope * stds[0] * stds[0]).squareRoot())
        }
    }

    /// Scores the candidates of `block`, keeping the best into `top` and every objective in
    /// `histogram`; `progress` is called now and then with the number scored so far. Returns
    /// how many candidates passed the count windows.
    public func scan(_ block: Range<Int>, top: inout TopKeeper, histogram: inout ObjectiveHistogram,
                     progress: (Int) -> Void = { _ in }) -> Int {
        precondition(readsTables, "the table scan needs every run's member tables")
        guard !block.isEmpty else { return 0 }
        let sites = space.sites.count, last = sites - 1, members = totalMembers
        var digits = space.digits(of: block.lowerBound)
        let radix = space.allowed.map(\.count)
        let windowElements = space.windowElements
        var windowCounts = [Int](repeating: 0, count: space.windows.count)
        var base = [Double](repeating: 0, count: members)
        var sums = [Double](repeating: 0, count: members)
        var accepted = 0
        func rebuildBase() {
            for j in 0..<members { base[j] = 0 }
            for s in 0..<last { let row = digits[s] * members; for j in 0..<members { base[j] += entries[s][row + j] } }
            for w in windowCounts.indices {
                windowCounts[w] = (0..<last).filter { space.allowed[$0][digits[$0]] == windowElements[w] }.count
            }
        }
        rebuildBase()
        var index = block.lowerBound
        sums.withUnsafeMutableBufferPointer { sums in
            while index < block.upperBound {
                let lastEntries = entries[last]
                let lastAllowed = space.allowed[last]
                while digits[last] < radix[last] && index < block.upperBound {
                    let d = digits[last]
                    var inWindows = true
                    for w in windowCounts.indices {
                        let count = windowCounts[w] + (lastAllowed[d] == windowElements[w] ? 1 : 0)
                        if count < space.windows[w].low || count > space.windows[w].high { inWindows = false }
                    }
                    if inWindows {
                        for j in 0..<members { sums[j] = base[j] + lastEntries[d * members + j] }
                        let (value, std) = quickObjective(sums)
                        histogram.add(value)
                        if top.admits(score: ranking.score(objective: value, std: std), index: index) {
                            top.offer(candidate(index: index, sums: sums))
                        }
                        accepted += 1
                    }
                    digits[last] += 1; index += 1
                    if index & 0xFFFFF == 0 { progress(index - block.lowerBound) }
                }
                // Carry into the more significant sites, then the prefix sums change.
                var s = last
                while s > 0 && digits[s] >= radix[s] { digits[s] = 0; s -= 1; digits[s] += 1 }
                if index < block.upperBound { rebuildBase() }
            }
        }
        return accepted
    }
}
