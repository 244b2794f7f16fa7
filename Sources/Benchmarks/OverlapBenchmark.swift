import Basics
import Foundation
import MPI
import Training

/// `bench scaling`'s second table, run on every rank of an mpirun job (`bench overlap-run`):
/// how much of an all-reduce each mode hides behind a stand-in backward of fixed work (no
/// network, no data, so only the communication differs between the rows). The buffer is cut
/// into equal "layers"; after each, the overlapped modes start the buckets, then complete and
/// poll them. It calls the collectives it measures itself (see Package.swift).
public struct OverlapBenchmark: Sendable {
    public struct Configuration: Sendable {
        /// MiB of doubles reduced.
        public var mebibytes = 16
        /// Layers the buffer is cut into.
        public var layers = 16
        /// Dependent multiply-adds of stand-in backward per layer.
        public var layerWork = 2_000_000
        /// Timed rounds of each mode; the median is shown.
        public var rounds = 25
        /// Modes (as `train --all-reduce`).
        public var allReduceModes = ["single", "buckets:nopoll", "buckets"]
        public init() {}

        /// The options of `sitelens bench overlap-run` that give this configuration.
        public var arguments: [String] {
            ["--mebibytes", "\(mebibytes)", "--layers", "\(layers)", "--layer-work", "\(layerWork)", "--rounds", "\(rounds)",
             "--all-reduce", allReduceModes.joined(separator: ",")]
        }
    }

    public let configuration: Configuration
    public let log: BenchmarkLog

    public init(_ configuration: Configuration, log: @escaping BenchmarkLog = printFlushed) {
        self.configuration = configuration
        self.log = log
    }

    /// Measures every mode on `world`; rank 0 prints and returns the table, the others nil.
    public func run(world: Communicator) throws -> BenchmarkTable? {
        let count = configuration.mebibytes << 17
        let buffer = StableBuffer<Double>(count: count, repeating: 0)
        // The whole buffer's all-reduce alone: what there is to hide.
        let alone = try medianOverRounds(world) { _ in (0, try timed { try world.allReduce(inPlace: buffer.storage, op: .sum) }) }
        var rows: [(String, Double, Double)] = [("transfer alone", .nan, alone.wait)]
        // "barrier": the wait an infinitely fast all-reduce would leave (ranks finishing apart).
        for name in ["barrier"] + configuration.allReduceModes {
            let figures = try measure(mode: name, buffer: buffer, world: world)
            rows.append((name, figures.backward, figures.wait))
        }
        guard world.isRoot else { return nil }
        return tabulate(rows, ranks: world.size)
    }

    /// One mode's medians (nil mode: a barrier) over the rounds, each checked for the right sum.
    private func measure(mode name: String, buffer: StableBuffer<Double>, world: Communicator) throws -> (backward: Double, wait: Double) {
        let mode = GradientReduction(name)
        let count = buffer.count, layers = configuration.layers
        let starts = (0..<layers).map { $0 * count / layers }
        let buckets = mode.flatMap { $0.bucketBytes > 0 ? BucketedAllReduce(buffer: buffer, boundaries: starts, bucketBytes: $0.bucketBytes, over: world) : nil }
        var sink = 0.0
        let figures = try medianOverRounds(world) { expected in
            buffer.storage.update(repeating: Double(world.rank + 1))
            buckets?.reset()
            let backward = try timed {
                for layer in (0..<layers).reversed() {
                    sink += standInWork(configuration.layerWork)
                    try buckets?.startBuckets(from: starts[layer])
                    if mode?.polls == true { try buckets?.progress() }
                }
            }
            let wait = try timed {
                if let buckets { try buckets.finish() } else if mode != nil { try world.allReduce(inPlace: buffer.storage, op: .sum) } else { try world.barrier() }
            }
            guard mode == nil || (buffer[0] == expected && buffer[count - 1] == expected) else {
                throw TrainingError("overlap-run: \(name) gave \(buffer[0]), not \(expected)")
            }
            return (backward, wait)
        }
        if sink.isNaN { log("") }  // keeps the stand-in work from being optimised away
        return figures
    }

    private func tabulate(_ rows: [(String, Double, Double)], ranks: Int) -> BenchmarkTable {
        var table = BenchmarkTable(columns: ["all-reduce", "backward ms", "wait after backward ms", "÷ single"], widths: [26, 13, 24, 12])
        let reference = rows.first { $0.0 == "single" }?.2
        log("Overlap on \(ranks) ranks: \(configuration.mebibytes) MiB of doubles in \(configuration.layers) layers, stand-in backward of fixed work, "
            + "median of \(configuration.rounds) rounds (slowest rank):")
        log(table.header)
        for (name, backward, wait) in rows {
            log(table.append([name, backward.isNaN ? "-" : String(format: "%.2f", 1000 * backward), String(format: "%.2f", 1000 * wait),
                              reference.map { String(format: "%.2f", wait / max($0, 1e-9)) } ?? "-"]))
        }
        return table
    }

    /// Runs `round` for every round after a barrier; per round the slowest rank's figures; the
    /// medians. `round` gets the value every element must end with and returns (backward, wait) seconds.
    private func medianOverRounds(_ world: Communicator, _ round: (Double) throws -> (Double, Double)) throws -> (backward: Double, wait: Double) {
        let p = Double(world.size)
        var backwards: [Double] = [], waits: [Double] = []
        for _ in 0..<configuration.rounds {
            try world.barrier()
            let (backward, wait) = try round(p * (p + 1) / 2)
            let slowest = try world.allReduce([backward, wait], op: .max)
            backwards.append(slowest[0])
            waits.append(slowest[1])
        }
        return (median(backwards) ?? .nan, median(waits) ?? .nan)
    }

    private func timed(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = (ContinuousClock.now - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }
}

/// A chain of dependent multiply-adds: fixed work that no compiler can shorten.
private func standInWork(_ steps: Int) -> Double {
    var x = 1.0
    for _ in 0..<steps { x = x * 0.999_999 + 1e-7 }
    return x
}
