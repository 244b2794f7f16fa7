import Basics
import Foundation
import MPI

/// A screen as the command asks for it: the runs, the space's restrictions, the ranking and
/// the output folder. `run` does the whole job on every rank; rank 0 prints and writes.
public struct ScreenJob {
    public var runs: [ScreenedRun]
    public var fixed: [String: String] = [:]
    public var allowed: [String: [String]] = [:]
    public var windows: [CandidateSpace.Window] = []
    public var ranking: Ranking
    public var top: Int
    public var bins: Int
    public var out: RunFolder
    public var overwrite: Bool
    /// Score a seeded uniform sample of this many candidates instead of every one.
    public var sample: Int?
    public var seed: UInt64 = 1

    public init(runs: [ScreenedRun], ranking: Ranking, top: Int, bins: Int, out: RunFolder, overwrite: Bool) {
        self.runs = runs; self.ranking = ranking; self.top = top; self.bins = bins; self.out = out; self.overwrite = overwrite
    }

    /// The space: the first run's sites, by the elements every run saw.
    public func space() throws -> CandidateSpace {
        guard let first = runs.first else { throw ScreenError("give at least one --run") }
        for run in runs where run.sites != first.sites {
            throw ScreenError("runs \(first.name) and \(run.name) have different sites (\(first.sites) and \(run.sites))")
        }
        let shared = first.elements.filter { element in runs.allSatisfy { $0.elements.contains(element) } }
        return try CandidateSpace(sites: first.sites, elements: shared, fixed: fixed, allowedBySite: allowed, windows: windows)
    }

    /// Scores the space over `world`'s ranks and, on rank 0, prints the figures and writes the
    /// outputs. Returns rank 0's result (nil elsewhere).
    @discardableResult
    public func run(world: Communicator, progress: Bool) throws -> ScreenResult? {
        let space = try space()
        _ = try TopKeeper(capacity: top)
        _ = try ObjectiveHistogram(low: 0, high: 1, bins: bins)
        let line = ranking.objective == .scalingDeparture ? try ScalingLine.fit(x: runs[0], y: runs[1]) : nil
        let scorer = try Scorer(space: space, runs: runs, ranking: ranking, line: line)
        let additive = scorer.readsTables ? try AdditiveObjective(space: space, runs: runs, objective: ranking.objective, line: line) : nil
        // Tables scan every candidate by look-ups (also when a sample covers the space); other
        // runs, and a sample, go through predictors.
        let chosen = try sample.map { try CandidateSelection.sample(space, count: $0, seed: seed) }
        let selection = scorer.readsTables ? chosen.flatMap { $0.sampled == nil ? nil : $0 } : try chosen ?? CandidateSelection.exhaustive(space)
        // Rank 0 claims the folder before the scan, so a refused --out costs no scan; the others
        // learn of a refusal through withMPI's abort.
        let lock = world.rank == 0 ? try out.claimForScreen(overwrite: overwrite) : nil
        defer { lock?.release() }
        if world.rank == 0 { printHeader(space: space, line: line, additive: additive, selection: selection) }
        let found: ScreenResult?
        if let selection {
            found = try ScreenRunner.run(scorer, predictors: runs.map(\.predictor), selection: selection, world: world, top: top, bins: bins,
                                         progress: progress)
        } else if let additive {
            found = try ScreenRunner.run(scorer, range: additive.objectiveRange, world: world, top: top, bins: bins, progress: progress)
        } else {
            throw ScreenError("a table scan needs the additive objective")
        }
        guard let result = found else { return nil }
        try report(result, space: space, scorer: scorer, additive: additive, line: line, selection: selection)
        return result
    }

    func printHeader(space: CandidateSpace, line: ScalingLine?, additive: AdditiveObjective?, selection: CandidateSelection?) {
        let windows = space.windows.isEmpty ? "" : ", count windows " + space.windows.map { "\($0.element) \($0.low)-\($0.high)" }.joined(separator: ", ")
        print("screen: \(space.size) candidates (\(space.sites.count) sites, elements \(space.elements.joined(separator: ", "))\(windows)); "
              + "runs \(runs.map(\.name).joined(separator: ", ")), \(runs.map { "\($0.predictor.memberCount)" }.joined(separator: "+")) members")
        print("objective \(ranking.objective.name), \(ranking.statement)")
        if let line {
            print(String(format: "scaling line: E(%@) = %.4f + %.4f·E(%@), fitted on %d training occupations both runs hold",
                         runs[1].name, line.intercept, line.slope, runs[0].name, line.pairs.count))
        }
        let tables = runs.compactMap(\.tables)
        if tables.count == runs.count {
            let gap = tables.map(\.additivityGap).max() ?? 0
            print(String(format: "member tables: exact read-off of the additive sites network (largest |table sum − network| on training rows %.2g eV)", gap))
        }
        for case let images as ImageEnsemblePredictor in runs.map(\.predictor) {
            print("\(images.kind) run: each candidate built through the run's site template, encoded as it trained and evaluated by \(images.memberCount) members in batched forward passes")
        }
        if let selection { print("scoring \(selection.statement)") } else if let sample { print("--sample \(sample) covers the space: scoring every candidate") }
        if let optimum = additive?.optimum() {
            print("additive optimum of the ensemble mean (per-site choice\(space.windows.isEmpty ? "" : " + count dynamic programme")): "
                  + space.occupation(optimum.digits).joined(separator: ",") + " objective \(optimum.objective)")
        }
    }

    func report(_ result: ScreenResult, space: CandidateSpace, scorer: Scorer, additive: AdditiveObjective?, line: ScalingLine?,
                selection: CandidateSelection?) throws {
        let scanned = selection?.count ?? space.size
        let perCandidate = result.wallSeconds / Double(max(scanned, 1))
        print(String(format: "scanned %d candidates%@ (%d met the windows) on %d rank%@ in %.3f s wall: %.4g candidates/s, %.3g ns per candidate (slowest rank's scan %.3f s)",
                     scanned, scanned == space.size ? "" : " of \(space.size)", result.scored, result.ranks, result.ranks == 1 ? "" : "s",
                     result.wallSeconds, Double(scanned) / max(result.wallSeconds, 1e-9), perCandidate * 1e9, result.slowestScanSeconds))
        if selection != nil { printRankRates(result) }
        let check = try ExtrapolationCheck(runs: runs, scorer: scorer)
        let top = result.top.kept
        let flagged = top.filter { check.isFlagged(space.occupation(space.digits(of: $0.index)), sites: space.sites, objectiveStd: $0.objectiveStd) }.count
        let far = top.filter { !check.reasons(space.occupation(space.digits(of: $0.index)), sites: space.sites).isEmpty }.count
        print(String(format: "extrapolation: %d of the top %d are far from the training rows, %d of them with objective spread above %.3g eV (flagged)",
                     far, top.count, flagged, check.spreadLimit))
        if let best = top.first {
            print("best: " + space.occupation(space.digits(of: best.index)).joined(separator: ",") + " objective \(best.objective) ± \(best.objectiveStd)"
                  + (selection?.sampled == nil ? "" : " (best of the sample)"))
        }
        let outputs = ScreenOutputs(folder: out, runs: runs, space: space, check: check)
        try outputs.writeTop(top)
        let contributions = try writeContributions(top, outputs: outputs, space: space, additive: additive, line: line)
        print("top-contributions.csv: " + contributions)
        try outputs.writeHistogram(result.histogram)
        if let line { try outputs.writeScalingPlot(top, line: line) }
        let optimum = additive?.optimum()
        var summary = ScreenSummary(
            runs: runs.map(\.name), objective: ranking.objective.name, kappa: ranking.kappa, rule: ranking.statement, sites: space.sites,
            elements: space.elements, spaceSize: space.size, scored: result.scored, ranks: result.ranks, wallSeconds: result.wallSeconds,
            scalingLine: line, optimumOccupation: optimum.map { space.occupation($0.digits) }, optimumObjective: optimum?.objective,
            extrapolationSpreadLimit: check.spreadLimit, flaggedInTop: flagged)
        summary.sample = selection?.sampled?.count
        summary.seed = selection?.seed
        summary.topContributions = contributions
        try outputs.writeSummary(summary)
        print("wrote " + RunFolder.ScreenOutput.allCases.filter { FileManager.default.fileExists(atPath: out.file($0).path) }.map(\.rawValue).joined(separator: ", ")
              + " to \(out.path)")
    }

    /// Each rank's rate, for a scan through predictors (the work is independent per candidate).
    func printRankRates(_ result: ScreenResult) {
        for (rank, (count, seconds)) in zip(result.rankCandidates, result.rankScanSeconds).enumerated() {
            print(String(format: "rank %d: %d candidates in %.3f s: %.4g candidates/s, %.4g ms per candidate",
                         rank, count, seconds, Double(count) / max(seconds, 1e-9), 1000 * seconds / Double(max(count, 1))))
        }
    }

    /// Writes each top candidate's site shares where the models give them cheaply, and says what
    /// was written (or why nothing was).
    func writeContributions(_ top: [ScoredCandidate], outputs: ScreenOutputs, space: CandidateSpace, additive: AdditiveObjective?,
                            line: ScalingLine?) throws -> String {
        if let additive {
            try outputs.writeContributions(top) { additive.siteShares($2) }
            return "each site's share of the additive ensemble-mean objective, centred per site"
        }
        let used = Array(runs.prefix(ranking.objective.runsNeeded))
        if let atomic = try AtomicSiteShares(runs: used, space: space, objective: ranking.objective, line: line) {
            try outputs.writeContributions(top) { try atomic.shares(candidate: $1, digits: $2) }
            return "each site's atom's ensemble-mean contribution to the objective less that site's mean over the training rows (atomic split)"
        }
        let swaps = SwapSiteShares(runs: used, space: space, objective: ranking.objective, line: line)
        try outputs.writeContributions(top) { $0 < SwapSiteShares.candidateLimit ? try swaps.shares(candidate: $1, digits: $2) : nil }
        return "each site's swap effect at the candidate: the objective's value less its mean over the elements allowed at the site "
            + "(\(used.map(\.predictor).compactMap { ($0 as? ImageEnsemblePredictor)?.kind }.joined(separator: "/")) gives one energy per structure)"
            + (top.count > SwapSiteShares.candidateLimit ? ", for the first \(SwapSiteShares.candidateLimit) candidates only" : "")
    }
}
