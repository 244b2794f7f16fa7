import Basics
import Foundation
import Networks
import Structures
import Training
#if canImport(Glibc)
import Glibc
#endif

/// `bench cluster`: data-parallel training across network-namespace nodes made by
/// `Launch/cluster` (each node's link shaped by tc tbf), for each link rate: the all-reduce time
/// of the model's gradient, its share of the step and the part hidden behind backward, samples/s
/// per all-reduce mode and precision; α and β fitted per rate; step time and parallel efficiency
/// projected to many ranks (ring and hierarchical models, compute measured on one rank); the
/// projection checked against measured 2-, 3- and 4-node runs. Both "nodes" share this
/// machine's cores, so the all-reduce between namespaces also costs CPU work a real network card
/// would take off them (the kernel's TCP copies): measured as the same all-reduce at unlimited
/// rate, taken out of the fitted costs, and replaced by what a node's own shared memory costs.
public struct ClusterBenchmark: Sendable {
    public struct Configuration: Sendable {
        /// Link rates as tc writes them.
        public var rates = ["100mbit", "1gbit", "10gbit"]
        /// Node counts (one rank each) whose measured step is checked against the projection.
        public var checkedNodes = [2, 3, 4]
        /// All-reduce modes and precisions trained on 2 nodes at each rate.
        public var modes = ["single", "buckets", "han"]
        public var precisions = ["double", "float", "bf16"]
        /// The ryczko model's grid, the clusters trained on, epochs per run (the first untimed).
        public var grid = 64, clusters = 256, epochs = 3
        /// Structures each rank trains per step (the global batch grows with the ranks).
        public var batchPerRank = 16
        /// All-reduce sizes for the α–β fit (the gradient's size is added), and rounds of each.
        /// The small ones, all rounds together, stay within tbf's burst (`linkBurstBytes`), which
        /// they would otherwise drain and then wait for.
        public var fitBytes = [4 << 10, 16 << 10, 1 << 20, 4 << 20, 8 << 20]
        public var rounds = 10
        /// Rank counts projected, and the ranks per node of the hierarchical model.
        public var projectedRanks = [8, 64, 256, 1024]
        public var ranksPerNode = 8

        public init() {}

        /// A run of a minute or two: one rate, two nodes, a small model.
        public static var quick: Configuration {
            var configuration = Configuration()
            (configuration.rates, configuration.checkedNodes, configuration.modes, configuration.precisions) = (["1gbit"], [2], ["single", "buckets"], ["double"])
            (configuration.grid, configuration.clusters, configuration.epochs) = (16, 64, 2)
            (configuration.fitBytes, configuration.rounds) = ([4 << 10, 16 << 10, 1 << 20, 4 << 20], 4)
            return configuration
        }
    }

    /// The tc tbf burst of `Launch/cluster --rate` (its `burst 256kb`): messages up to it pass at
    /// the host's speed, so the fit takes α below it and β well above it.
    public static let linkBurstBytes = 256 << 10

    public let configuration: Configuration
    public let launcher: SiteLensLauncher
    /// `Launch/cluster`.
    public let clusterScript: URL
    public let log: BenchmarkLog

    public init(_ configuration: Configuration, launcher: SiteLensLauncher, clusterScript: URL, log: @escaping BenchmarkLog = printFlushed) {
        (self.configuration, self.launcher, self.clusterScript, self.log) = (configuration, launcher, clusterScript, log)
    }

    /// Why namespace nodes cannot be made here, or nil.
    public func unavailableReason() -> String? {
        if getuid() != 0 { return "namespace nodes need root (Launch/cluster makes network namespaces)" }
        if !FileManager.default.isExecutableFile(atPath: clusterScript.path) { return "\(clusterScript.path) not found" }
        return nil
    }

    /// Runs the benchmark and prints its tables; nil (after saying why) when it cannot run here.
    public func run() throws -> ClusterResults? {
        if let reason = unavailableReason() {
            log("bench cluster: skipped: \(reason)")
            return nil
        }
        // Shared by every node (each node has its own /tmp).
        let folder = URL(fileURLWithPath: "/var/tmp/sitelens-bench-cluster-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: configuration.clusters, seed: 9), to: data)
        let runs = ClusterRuns(configuration: configuration, launcher: launcher, clusterScript: clusterScript, folder: folder, data: data)
        log("Cluster benchmark: ryczko G=\(configuration.grid), \(configuration.batchPerRank) structures per rank and step, one rank per node, "
            + "one BLAS thread per rank; load average at the start: \(loadAverage())")
        guard let alone = try runs.train(nodes: 1, rate: nil, mode: "single", precision: "double") else {
            throw TrainingError("bench cluster: the one-rank run failed")
        }
        let gradientBytes = Double(try runs.parameterCount() * MemoryLayout<Double>.size)
        let sizes = configuration.fitBytes + [Int(gradientBytes)]
        guard let shared = runs.fit(try runs.allReduceTimes(nodes: nil, rate: nil, bytes: sizes)),
              let unlimited = runs.fit(try runs.allReduceTimes(nodes: 2, rate: nil, bytes: sizes)) else {
            throw TrainingError("bench cluster: the shared-memory or unlimited-rate all-reduce timings failed")
        }
        var results = ClusterResults(computeSeconds: alone.stepSeconds, gradientBytes: gradientBytes, sharedMemory: shared, unlimited: unlimited)
        for rate in configuration.rates {
            guard let link = runs.fit(try runs.allReduceTimes(nodes: 2, rate: rate, bytes: sizes), shaped: true) else { continue }
            results.links.append((rate, link))
            for mode in configuration.modes {
                for precision in configuration.precisions {
                    if let figures = try runs.train(nodes: 2, rate: rate, mode: mode, precision: precision) {
                        results.trainings.append(ClusterResults.Training(rate: rate, nodes: 2, mode: mode, precision: precision, figures: figures))
                    }
                }
            }
        }
        let checkRate = configuration.rates.contains("1gbit") ? "1gbit" : configuration.rates[0]
        for nodes in configuration.checkedNodes where !results.trainings.contains(where: { $0.matches(rate: checkRate, nodes: nodes) }) {
            if let figures = try runs.train(nodes: nodes, rate: checkRate, mode: "single", precision: "double") {
                results.trainings.append(ClusterResults.Training(rate: checkRate, nodes: nodes, mode: "single", precision: "double", figures: figures))
            }
        }
        ClusterTables(configuration: configuration, results: results, checkRate: checkRate, log: log).print()
        log("Load average at the end: \(loadAverage())")
        return results
    }
}

/// What `bench cluster` measured.
public struct ClusterResults: Sendable {
    /// One training run across nodes.
    public struct Training: Sendable {
        public var rate: String, nodes: Int, mode: String, precision: String
        public var figures: ClusterRuns.TrainingFigures

        func matches(rate: String, nodes: Int) -> Bool {
            self.rate == rate && self.nodes == nodes && mode == "single" && precision == "double"
        }
    }

    public var computeSeconds: Double
    public var gradientBytes: Double
    /// α–β of 2 ranks on one node (shared memory), and of 2 nodes at unlimited rate (CPU work only).
    public var sharedMemory: LinkCost, unlimited: LinkCost
    public var links: [(rate: String, cost: LinkCost)] = []
    public var trainings: [Training] = []

    /// The link's cost as real nodes would pay it: the CPU work of the namespaces' TCP taken
    /// out, a node's own shared-memory work put back.
    public func corrected(_ link: LinkCost) -> LinkCost { link.less(unlimited) + sharedMemory }
}
