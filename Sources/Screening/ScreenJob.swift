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

    public init(runs: [ScreenedRun], ranking: Ranking, top: Int, bins: Int, out: RunFolder, overwrite: Bool) {
        self.runs = runs; self.ranking = ranking; self.top = top; self.bins = bins; self.out = out; self.overwrite = overwrite
    }

    /// The space: the first run's sites, by the elements every run saw.
    public func space() throws -> CandidateSpace {
        guard let first = runs.first else { throw ScreenError("give at least one --run") }
        for run in runs where run.tables.sites != first.tables.sites {
            throw ScreenError("runs \(first.name) and \(run.name) have different sites (\(first.tables.sites) and \(run.tables.sites))")
        }
        let shared = first.tables.elements.filter { element in runs.allSatisfy { $0.tables.elements.contains(element) } }
        return try CandidateSpace(sites: first.tables.sites, elements: shared, fixed: fixed, allowedBySite: allowed, windows: windows)
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
        let additive = try AdditiveObjective(space: space, runs: runs, objective: ranking.objective, line: line)
        // Rank 0 claims the folder before the scan, so a refused --out costs no scan; the others
        // learn of a refusal through withMPI's abort.
        let lock = world.rank == 0 ? try out.claimForScreen(overwrite: overwrite) : nil
        defer { lock?.release() }
        if world.rank == 0 { printHeader(space: space, line: line, additive: additive) }
        guard let result = try ScreenRunner.run(scorer, range: additive.objectiveRange, world: world, top: top, bins: bins, progress: progress)
        else { return nil }
        try report(result, space: space, scorer: scorer, additive: additive, line: line)
        return result
    }

    func printHeader(space: CandidateSpace, line: ScalingLine?, additive: AdditiveObjective) {
        let windows = space.windows.isEmpty ? "" : ", count windows " + space.windows.map { "\($0.element) \($0.low)-\($0.high)" }.joined(separator: ", ")
        print("screen: \(space.size) candidates (\(space.sites.count) sites, elements \(space.elements.joined(separator: ", "))\(windows)); "
              + "runs \(runs.map(\.name).joined(separator: ", ")), \(runs.map { "\($0.tables.values.count)" }.joined(separator: "+")) members")
        print("objective \(ranking.objective.name), \(ranking.statement)")
        if let line {
            print(String(format: "scaling line: E(%@) = %.4f + %.4f·E(%@), fitted on %d training occupations both runs hold",
                         runs[1].name, line.intercept, line.slope, runs[0].name, line.pairs.count))
        }
        let gap = runs.map(\.tables.additivityGap).max() ?? 0
        print(String(format: "member tables: exact read-off of the additive sites network (largest |table sum − network| on training rows %.2g eV)", gap))
        if let optimum = additive.optimum() {
            print("additive optimum of the ensemble mean (per-site choice\(space.windows.isEmpty ? "" : " + count dynamic programme")): "
                  + space.occupation(optimum.digits).joined(separator: ",") + " objective \(optimum.objective)")
        }
    }

    func report(_ result: ScreenResult, space: CandidateSpace, scorer: Scorer, additive: AdditiveObjective, line: ScalingLine?) throws {
        let perCandidate = result.wallSeconds / Double(max(space.size, 1))
        print(String(format: "scanned %d candidates (%d met the windows) on %d rank%@ in %.3f s wall: %.4g candidates/s, %.3g ns per candidate (slowest rank's scan %.3f s)",
                     space.size, result.scored, result.ranks, result.ranks == 1 ? "" : "s", result.wallSeconds,
                     Double(space.size) / max(result.wallSeconds, 1e-9), perCandidate * 1e9, result.slowestScanSeconds))
        let check = ExtrapolationCheck(runs: runs, scorer: scorer)
        let top = result.top.kept
        let flagged = top.filter { check.isFlagged(space.occupation(space.digits(of: $0.index)), sites: space.sites, objectiveStd: $0.objectiveStd) }.count
        let far = top.filter { !check.reasons(space.occupation(space.digits(of: $0.index)), sites: space.sites).isEmpty }.count
        print(String(format: "extrapolation: %d of the top %d are far from the training rows, %d of them with objective spread above %.3g eV (flagged)",
                     far, top.count, flagged, check.spreadLimit))
        if let best = top.first {
            print("best: " + space.occupation(space.digits(of: best.index)).joined(separator: ",") + " objective \(best.objective) ± \(best.objectiveStd)")
        }
        let outputs = ScreenOutputs(folder: out, runs: runs, space: space, additive: additive, check: check)
        try outputs.writeTop(top)
        try outputs.writeContributions(top)
        try outputs.writeHistogram(result.histogram)
        if let line { try outputs.writeScalingPlot(top, line: line) }
        let optimum = additive.optimum()
        try outputs.writeSummary(ScreenSummary(
            runs: runs.map(\.name), objective: ranking.objective.name, kappa: ranking.kappa, rule: ranking.statement, sites: space.sites,
            elements: space.elements, spaceSize: space.size, scored: result.scored, ranks: result.ranks, wallSeconds: result.wallSeconds,
            scalingLine: line, optimumOccupation: optimum.map { space.occupation($0.digits) }, optimumObjective: optimum?.objective,
            extrapolationSpreadLimit: check.spreadLimit, flaggedInTop: flagged))
        print("wrote " + RunFolder.ScreenOutput.allCases.filter { FileManager.default.fileExists(atPath: out.file($0).path) }.map(\.rawValue).joined(separator: ", ")
              + " to \(out.path)")
    }
}
