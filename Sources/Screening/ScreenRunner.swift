import Foundation
import MPI
#if canImport(Glibc)
import Glibc
#endif

/// What a screen found over the whole space: the best K, the exact histogram of the objective,
/// how many candidates met the windows, and how long the scan took.
public struct ScreenResult: Sendable, Codable {
    public let top: TopKeeper
    public let histogram: ObjectiveHistogram
    /// Candidates that met the count windows (all of them without windows).
    public let scored: Int
    /// Wall time of the scan and reduction (seconds, rank 0's clock), and the slowest rank's scan.
    public let wallSeconds: Double
    public let slowestScanSeconds: Double
    public let ranks: Int
    /// The candidates each rank scored (those of its block that met the windows) and its scan's
    /// seconds, in rank order.
    public let rankCandidates: [Int]
    public let rankScanSeconds: [Double]
}

/// One rank's share before the reduction.
struct RankShare: Codable {
    let top: TopKeeper
    let histogram: ObjectiveHistogram
    let scored: Int
    let scanSeconds: Double
}

/// Runs a screen over the ranks of `world`: each rank scores its own contiguous block of
/// indices (`Communicator.shareOut`, as the swap decomposition shares its structures), keeps its
/// best K and its histogram; one gather brings the shares to rank 0, which merges them. Ties
/// break by candidate index, so the result is the same for any number of ranks. The one place
/// screening calls a collective.
public enum ScreenRunner {
    /// Rank 0 gets the result, other ranks nil. `range`: the objective's range (the histogram's
    /// bins). `progress`: rank 0 prints a progress line to stderr with an estimate of what remains
    /// (its block stands for everyone's).
    public static func run(_ scorer: Scorer, range: ClosedRange<Double>, world: Communicator, top: Int, bins: Int,
                           progress: Bool) throws -> ScreenResult? {
        let start = Date()
        let shares = try world.shareOut(count: scorer.space.size, root: 0) { block -> RankShare in
            var keeper = try TopKeeper(capacity: top)
            var histogram = try ObjectiveHistogram(low: range.lowerBound, high: range.upperBound, bins: bins)
            let line = ProgressLine(enabled: progress && world.rank == 0, total: block.count, start: start)
            let scored = scorer.scan(block, top: &keeper, histogram: &histogram) { line.update(done: $0) }
            line.finish()
            return RankShare(top: keeper, histogram: histogram, scored: scored, scanSeconds: Date().timeIntervalSince(start))
        }
        guard let shares else { return nil }
        return try merged(shares, top: top, start: start, ranks: world.size)
    }

    /// Rank 0's merge of the gathered shares.
    static func merged(_ shares: [RankShare], top: Int, start: Date, ranks: Int) throws -> ScreenResult {
        ScreenResult(top: try TopKeeper.merged(shares.map(\.top), capacity: top),
                     histogram: try ObjectiveHistogram.summed(shares.map(\.histogram)),
                     scored: shares.map(\.scored).reduce(0, +), wallSeconds: Date().timeIntervalSince(start),
                     slowestScanSeconds: shares.map(\.scanSeconds).max() ?? 0, ranks: ranks,
                     rankCandidates: shares.map(\.scored), rankScanSeconds: shares.map(\.scanSeconds))
    }

    /// Candidates scored per forward-pass batch of a predicted scan: large enough to fill
    /// `BatchedEvaluation`'s passes, small enough that the progress line moves.
    public static let predictedBatch = 128

    /// A screen through predictors (image and `atomic` runs, or a sample): each rank scores its
    /// contiguous block of the selection's positions. The histogram's bounds are not known
    /// before (no table gives the objective's range), so each rank keeps its block's objective
    /// values (bounded by `CandidateSelection`'s limits), one all-reduce gives every rank the
    /// global minimum and maximum, each bins its own, and the one gather brings the shares to
    /// rank 0 as in `run`. Rank 0 gets the result, other ranks nil.
    public static func run(_ scorer: Scorer, predictors: [any EnsemblePredictor], selection: CandidateSelection, world: Communicator,
                           top: Int, bins: Int, progress: Bool) throws -> ScreenResult? {
        let start = Date()
        let block = world.block(of: selection.count)
        var keeper = try TopKeeper(capacity: top)
        var values: [Double] = []
        values.reserveCapacity(block.count)
        let line = ProgressLine(enabled: progress && world.rank == 0, total: block.count, start: start)
        let scored = try scorer.scanBatched(block.lazy.map(selection.index(at:)), predictors: predictors, batch: predictedBatch,
                                            top: &keeper, record: { values.append($0) }, progress: { line.update(done: $0) })
        line.finish()
        let scanSeconds = Date().timeIntervalSince(start)
        let finite = values.filter(\.isFinite)
        let bounds = try world.allReduce([-(finite.min() ?? .infinity), finite.max() ?? -.infinity], op: .max)
        let low = -bounds[0], high = bounds[1]
        var histogram = try low <= high ? ObjectiveHistogram(low: low, high: high, bins: bins) : ObjectiveHistogram(low: 0, high: 1, bins: bins)
        for value in values { histogram.add(value) }
        let share = RankShare(top: keeper, histogram: histogram, scored: scored, scanSeconds: scanSeconds)
        guard let shares = try world.gather(share, root: 0) else { return nil }
        return try merged(shares, top: top, start: start, ranks: world.size)
    }
}

/// A one-line progress display on a terminal: share done, rate, and the time left at that rate.
final class ProgressLine {
    let enabled: Bool
    let total: Int
    let start: Date
    var lastPrint = Date.distantPast
    var printed = false

    init(enabled: Bool, total: Int, start: Date) {
        self.enabled = enabled && isatty(2) != 0
        self.total = total
        self.start = start
    }

    func update(done: Int) {
        guard enabled, Date().timeIntervalSince(lastPrint) > 0.5 else { return }
        lastPrint = Date()
        let elapsed = lastPrint.timeIntervalSince(start)
        let rate = Double(done) / max(elapsed, 1e-9)
        let left = Double(total - done) / max(rate, 1e-9)
        let text = String(format: "\rscreen: %.0f%% of this rank's %d candidates, %.3g candidates/s, about %.1f s left ",
                          100 * Double(done) / Double(max(total, 1)), total, rate, left)
        FileHandle.standardError.write(Data(text.utf8))
        printed = true
    }

    func finish() {
        if printed { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
