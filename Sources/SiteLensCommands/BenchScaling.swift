import ArgumentParser
import Benchmarks
import Foundation
import Training

/// `sitelens bench scaling`: the same training on 1, 2 and 4 ranks and in each all-reduce mode,
/// beside independent ranks (the machine's ceiling); `ScalingBenchmark` says how.
struct BenchScaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "samples/s, parallel efficiency against 1 rank and against independent ranks (the machine's ceiling), and the all-reduce share not hidden behind backward, for ryczko and atomic on 1, 2, 4 ranks.")

    @Option(help: "Rank counts, comma-separated.")
    var ranks = "1,2,4"

    @Option(help: "Epochs per run; all but the first (warm-up) are timed.")
    var epochs = 4

    @Option(help: "Grid of the ryczko images.")
    var grid = 64

    @Option(help: "Gradient all-reduce modes compared on more than one rank, comma-separated: single (one blocking all-reduce after backward), buckets[:BYTES][:nopoll] (overlapped with backward; nopoll: no MPI_Test between layers).")
    var allReduce = "single,buckets"

    @Option(help: "Rounds; each runs every configuration once, in turn, so a speed-up compares runs made minutes apart at most. Medians are shown (the machine may be shared).")
    var repeats = 1

    func validate() throws {
        guard (1...9).contains(repeats) else { throw ValidationError("--repeats must be in 1...9, got \(repeats)") }
        guard (1...100).contains(epochs) else { throw ValidationError("--epochs must be in 1...100, got \(epochs)") }
        _ = try rankCounts()
        _ = try allReduceModes(allReduce)
    }

    private func rankCounts() throws -> [Int] {
        try commaSeparated(ranks, option: "--ranks", expecting: "a rank count in 1...256") { Int($0).flatMap { (1...256).contains($0) ? $0 : nil } }
    }

    func run() throws {
        var configuration = ScalingBenchmark.Configuration()
        configuration.ranks = try rankCounts()
        configuration.epochs = epochs
        configuration.grid = grid
        configuration.allReduceModes = try allReduceModes(allReduce)
        configuration.repeats = repeats
        _ = try ScalingBenchmark(configuration, launcher: thisExecutable).run()
    }
}

/// The modes in `text` (as `train --all-reduce`), or an error naming the one that is not.
func allReduceModes(_ text: String) throws -> [String] {
    try commaSeparated(text, option: "--all-reduce", expecting: "single, buckets, buckets:BYTES or buckets[:BYTES]:nopoll") { mode in
        GradientReduction(mode) == nil ? nil : mode
    }
}

/// `bench scaling`'s second table, one run under mpirun (started by it); `OverlapBenchmark` says how.
struct BenchOverlapRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "overlap-run", abstract: "One run of `bench scaling`'s overlap table (started by it).",
                                                    shouldDisplay: false)

    @Option(help: "MiB of doubles reduced.")
    var mebibytes = 16

    @Option(help: "Layers the buffer is cut into.")
    var layers = 16

    @Option(help: "Dependent multiply-adds of stand-in backward per layer.")
    var layerWork = 2_000_000

    @Option(help: "Timed rounds of each mode; the median is shown.")
    var rounds = 25

    @Option(help: "Modes, comma-separated (as train --all-reduce).")
    var allReduce = "single,buckets:nopoll,buckets"

    func validate() throws {
        guard (1...1024).contains(mebibytes), (1...256).contains(layers), (0...1_000_000_000).contains(layerWork),
              (1...1000).contains(rounds) else {
            throw ValidationError("overlap-run: --mebibytes 1...1024, --layers 1...256, --layer-work 0...1e9, --rounds 1...1000")
        }
        _ = try allReduceModes(allReduce)
    }

    func run() throws {
        var configuration = OverlapBenchmark.Configuration()
        configuration.mebibytes = mebibytes
        configuration.layers = layers
        configuration.layerWork = layerWork
        configuration.rounds = rounds
        configuration.allReduceModes = try allReduceModes(allReduce)
        try withMPI { mpi in _ = try OverlapBenchmark(configuration).run(world: mpi.world) }
    }
}
