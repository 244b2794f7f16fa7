import Basics
import Foundation
import Networks
import Training

/// The processes `bench cluster` starts: `sitelens train` and `sitelens bench cluster-run` under
/// mpirun, on one node (this machine's namespace) or on `Launch/cluster` nodes at a link rate.
public struct ClusterRuns: Sendable {
    /// A training run's timed figures.
    public struct TrainingFigures: Sendable {
        /// Samples/s of the group, and the share of the epoch spent waiting for the all-reduce after backward.
        public var samplesPerSecond: Double, allReduceShare: Double
        /// Structures per step (all ranks).
        public var globalBatch: Int

        public var stepSeconds: Double { Double(globalBatch) / samplesPerSecond }
    }

    let configuration: ClusterBenchmark.Configuration
    let launcher: SiteLensLauncher
    let clusterScript: URL
    let folder: URL
    let data: URL

    /// The command line that runs `arguments` of sitelens on `nodes` namespace nodes (nil: here,
    /// one rank a core) at `rate` (nil: unlimited).
    private func process(nodes: Int?, ranks: Int, rate: String?, _ arguments: [String]) -> Process {
        guard let nodes else { return launcher.mpirun(ranks: ranks, arguments) }
        let process = Process()
        process.executableURL = clusterScript
        process.arguments = ["--nodes", "\(nodes)"] + (rate.map { ["--rate", $0] } ?? [])
            + ["--", "mpirun", "-np", "\(ranks)", "-x", "OPENBLAS_NUM_THREADS=1", launcher.executable.path] + arguments
        process.environment = SiteLensLauncher.childEnvironment()
        return process
    }

    /// Runs to the end; standard output, or nil when it failed (its exit status said).
    private func output(of process: Process, _ what: String) throws -> String? {
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            printFlushed("bench cluster: \(what) failed (exit \(process.terminationStatus))")
            return nil
        }
        return text
    }

    /// The ryczko training on `nodes` nodes × 1 rank (1: here, alone) at `rate`, in `mode` and
    /// `precision`, its global batch `batchPerRank` × nodes; nil when the run failed.
    func train(nodes: Int, rate: String?, mode: String, precision: String) throws -> TrainingFigures? {
        let label = "\(nodes)-\(rate ?? "local")-\(mode)-\(precision)"
        let run = RunFolder(folder.appendingPathComponent("run-\(label)"))
        let batch = configuration.batchPerRank * nodes
        let arguments = ["train", data.path, "--model", "ryczko", "--grid", "\(configuration.grid)", "--extent", "5", "--batch-size", "\(batch)",
                         "--epochs", "\(configuration.epochs)", "--validation-fraction", "0", "--test-fraction", "0", "--blas-threads", "1",
                         "--print-every", "1000", "--all-reduce", mode, "--gradient-precision", precision, "--run-dir", run.url.path]
        let started = nodes == 1 ? process(nodes: nil, ranks: 1, rate: nil, arguments) : process(nodes: nodes, ranks: nodes, rate: rate, arguments)
        guard try output(of: started, "train \(label)") != nil, let figures = ScalingBenchmark.timedFigures(try MetricsLog.read(from: run)) else {
            return nil
        }
        return TrainingFigures(samplesPerSecond: figures.rate, allReduceShare: figures.share, globalBatch: batch)
    }

    /// Parameters of the model the one-rank run trained.
    func parameterCount() throws -> Int {
        let run = folder.appendingPathComponent("run-1-local-single-double/model")
        return try EnergyModel.load(from: run, name: "member-0").parameters.count
    }

    /// All-reduce seconds of `bytes` on 2 ranks: on `nodes` namespace nodes at `rate`, or (nil) on this node.
    func allReduceTimes(nodes: Int?, rate: String?, bytes: [Int]) throws -> [(bytes: Double, seconds: Double)] {
        let arguments = ["bench", "cluster-run", "--bytes", bytes.map(String.init).joined(separator: ","), "--rounds", "\(configuration.rounds)"]
        let text = try output(of: process(nodes: nodes, ranks: 2, rate: rate, arguments), "all-reduce timing \(rate ?? "unlimited")") ?? ""
        return AllReduceTiming.read(text)
    }

    /// α and β of 2-rank timings (nil when they did not come); `shaped`: through Launch/cluster's
    /// tbf, whose burst the small and large sizes are fitted apart around.
    func fit(_ times: [(bytes: Double, seconds: Double)], shaped: Bool = false) -> LinkCost? {
        let (bytes, seconds) = (times.map(\.bytes), times.map(\.seconds))
        return shaped ? LinkCost.fitted(bytes: bytes, seconds: seconds, ranks: 2, burst: Double(ClusterBenchmark.linkBurstBytes))
                      : LinkCost.fitted(bytes: bytes, seconds: seconds, ranks: 2)
    }
}
