import ArgumentParser
import Benchmarks
import Foundation

/// `sitelens bench cluster`: training across namespace nodes at several link rates (`ClusterBenchmark`).
struct BenchCluster: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "All-reduce time, share and overlap per mode and precision across namespace nodes at 100 Mbit/s, 1 and 10 Gbit/s; α–β fits; step time and efficiency projected to 1024 ranks and checked against 2–4 nodes (root; minutes).")

    @Flag(help: "One rate (1 Gbit/s), two nodes, a small model: a minute or two.")
    var quick = false

    @Option(help: "Link rates, comma-separated, as tc writes them (e.g. 100mbit,1gbit,10gbit).")
    var rates: String?

    @Option(help: "Launch/cluster (default: found beside Launch/reference).")
    var clusterScript: String?

    func validate() throws { _ = try chosenRates() }

    private func chosenRates() throws -> [String]? {
        try rates.map { text in
            try commaSeparated(text, option: "--rates", expecting: "a rate such as 100mbit or 1gbit") { piece in
                let digits = piece.prefix { $0.isNumber }
                return !digits.isEmpty && ["kbit", "mbit", "gbit"].contains(String(piece.dropFirst(digits.count))) ? piece : nil
            }
        }
    }

    func run() throws {
        var configuration = quick ? ClusterBenchmark.Configuration.quick : ClusterBenchmark.Configuration()
        if let chosen = try chosenRates() { configuration.rates = chosen }
        let script = clusterScript.map { URL(fileURLWithPath: $0) }
            ?? referenceScripts.folder?.deletingLastPathComponent().appendingPathComponent("cluster")
            ?? URL(fileURLWithPath: "Launch/cluster")
        _ = try ClusterBenchmark(configuration, launcher: thisExecutable, clusterScript: script).run()
    }
}

/// `bench cluster`'s all-reduce timings, one run under mpirun (started by it); `AllReduceTiming` says how.
struct BenchClusterRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster-run", abstract: "One all-reduce timing of `bench cluster` (started by it).",
                                                    shouldDisplay: false)

    @Option(help: "Bytes of Doubles all-reduced, comma-separated.")
    var bytes = "8192,1048576"

    @Option(help: "Timed rounds of each size; the median is printed.")
    var rounds = 10

    private func sizes() throws -> [Int] {
        try commaSeparated(bytes, option: "--bytes", expecting: "a size in 8...1073741824") { Int($0).flatMap { (8...(1 << 30)).contains($0) ? $0 : nil } }
    }

    func validate() throws {
        _ = try sizes()
        guard (1...1000).contains(rounds) else { throw ValidationError("--rounds must be in 1...1000, got \(rounds)") }
    }

    func run() throws {
        let timing = AllReduceTiming(bytes: try sizes(), rounds: rounds)
        try withMPI { mpi in try timing.run(world: mpi.world) }
    }
}
