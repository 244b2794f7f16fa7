import Basics
import Foundation
import Structures
import Training

/// `bench scaling`: the same training on 1, 2 and 4 ranks, side by side, with each gradient
/// all-reduce mode on several ranks (one blocking all-reduce after backward, the reference;
/// buckets overlapped with backward). Beside them, the machine's own ceiling: N ranks each
/// training a member of its own (an ensemble of N, no gradient exchanged), which shows what N
/// processes get from N cores at all (shared caches, memory bandwidth, clock, a noisy host).
/// Each run is `sitelens train` under mpirun; its figures are read from the run's metrics.
public struct ScalingBenchmark: Sendable {
    public struct Configuration: Sendable {
        /// Rank counts, one run each per model and mode.
        public var ranks = [1, 2, 4]
        /// Epochs per run; all but the first (warm-up) are timed.
        public var epochs = 4
        /// Grid of the ryczko images.
        public var grid = 64
        /// Gradient all-reduce modes compared on more than one rank (as `train --all-reduce`).
        public var allReduceModes = ["single", "buckets"]
        /// Rounds; each runs every configuration once, in turn.
        public var repeats = 1
        /// Lennard-Jones clusters (ryczko) and planted site-table rows (atomic) trained on.
        public var clusters = 256, siteRows = 512
        /// The overlap table run on each rank count above 1 (its `allReduceModes` are replaced
        /// by these); nil: not run.
        public var overlap: OverlapBenchmark.Configuration? = OverlapBenchmark.Configuration()
        public init() {}
    }

    /// The mode that trains one member per rank instead of one member over all of them.
    public static let independent = "independent"

    /// One run of the table: a model on a rank count in a mode ("-" on one rank).
    struct Run {
        let model: String
        let trainArguments: [String]
        let ranks: Int
        let mode: String
    }

    /// One run's timed figures: samples/s summed over members, and the all-reduce share.
    typealias Figures = (rate: Double, share: Double)

    public let configuration: Configuration
    public let launcher: SiteLensLauncher
    public let log: BenchmarkLog

    public init(_ configuration: Configuration, launcher: SiteLensLauncher, log: @escaping BenchmarkLog = printFlushed) {
        self.configuration = configuration
        self.launcher = launcher
        self.log = log
    }

    /// Runs every configuration `repeats` times, prints and returns the table (then the overlap runs).
    public func run() throws -> BenchmarkTable {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-scaling-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let runs = try plannedRuns(dataIn: folder)
        logPreamble()
        var figures = [[Figures?]](repeating: [], count: runs.count)
        for round in 0..<configuration.repeats {
            for (index, run) in runs.enumerated() {
                let label = "\(run.model.prefix(6))-\(run.ranks)-\(run.mode.replacingOccurrences(of: ":", with: "_"))-\(round)"
                figures[index].append(measure(run, in: RunFolder(folder.appendingPathComponent(label))))
            }
        }
        let table = tabulate(runs, figures)
        try runOverlapTables()
        log("Load average at the end: \(loadAverage())")
        return table
    }

    /// The data sets, written into `folder`, and every model × rank count × mode.
    func plannedRuns(dataIn folder: URL) throws -> [Run] {
        let clusters = folder.appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: configuration.clusters, seed: 9), to: clusters)
        let sites = folder.appendingPathComponent("sites.csv")
        try writeAtomically(try PlantedTruth().siteTable(count: configuration.siteRows, seed: 9), to: sites)
        let models: [(String, [String])] = [
            ("ryczko G=\(configuration.grid)", [clusters.path, "--model", "ryczko", "--grid", "\(configuration.grid)", "--extent", "5", "--batch-size", "32"]),
            ("atomic", [sites.path, "--model", "atomic", "--batch-size", "32"]),
        ]
        // One rank reduces nothing: the mode does not matter there.
        return models.flatMap { model in
            configuration.ranks.flatMap { count in
                (count == 1 ? ["-"] : [Self.independent] + configuration.allReduceModes).map {
                    Run(model: model.0, trainArguments: model.1, ranks: count, mode: $0)
                }
            }
        }
    }

    private func logPreamble() {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        log("Scaling benchmark: one BLAS thread per rank, \(cores) cores; epochs 2–\(configuration.epochs) of \(configuration.epochs) are timed (all of one if 1); "
            + "\(configuration.repeats) round(s), each running every configuration once in turn; medians shown, the speed-up as the median of each round's ratio to that round's first run.")
        log("Independent: each rank trains a member of its own (--ensemble N on N ranks: no all-reduce, no waiting for another rank); their samples/s summed are the most N processes get from this machine, and \"÷ independent\" is a data-parallel run's share of that ceiling in the same round.")
        log("All-reduce share: the part of the epoch spent waiting for the gradient all-reduce after backward (not hidden behind it), by the rank that waited least, so waiting for a slower rank is not counted.")
        log("Load average at the start: \(loadAverage())")
    }

    /// One training run's timed figures, or nil if it failed.
    private func measure(_ run: Run, in folder: RunFolder) -> Figures? {
        let choice: [String] = switch run.mode {
        case "-": []
        case Self.independent: ["--ensemble", "\(run.ranks)"]
        default: ["--all-reduce", run.mode]
        }
        let process = launcher.mpirun(ranks: run.ranks, ["train"] + run.trainArguments + choice
            + ["--epochs", "\(configuration.epochs)", "--validation-fraction", "0", "--blas-threads", "1", "--print-every", "1000", "--run-dir", folder.path])
        process.standardOutput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        guard process.terminationStatus == 0, let metrics = try? MetricsLog.read(from: folder) else { return nil }
        return Self.timedFigures(metrics)
    }

    /// The timed epochs (all but the first, unless there is one) of each member: samples/s
    /// summed over members (which train at once) and the largest member's all-reduce share,
    /// each weighted by the epochs' seconds; nil when nothing was timed.
    static func timedFigures(_ metrics: [EpochMetrics]) -> Figures? {
        let members = Dictionary(grouping: metrics, by: \.member).values.compactMap { epochs -> Figures? in
            let sorted = epochs.sorted { $0.epoch < $1.epoch }
            let timed = sorted.count > 1 ? Array(sorted.dropFirst()) : sorted
            let seconds = timed.reduce(0) { $0 + $1.seconds }
            guard seconds > 0 else { return nil }
            return (timed.reduce(0) { $0 + $1.samplesPerSecond * $1.seconds } / seconds,
                    timed.reduce(0) { $0 + $1.allReduceShare * $1.seconds } / seconds)
        }
        guard !members.isEmpty else { return nil }
        return (members.reduce(0) { $0 + $1.rate }, members.map(\.share).max() ?? 0)
    }

    private func runOverlapTables() throws {
        guard var overlap = configuration.overlap else { return }
        overlap.allReduceModes = configuration.allReduceModes
        for count in configuration.ranks where count > 1 {
            log("")
            let process = launcher.mpirun(ranks: count, ["bench", "overlap-run"] + overlap.arguments)
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { log("the \(count)-rank overlap run failed (exit \(process.terminationStatus))") }
        }
    }
}
