import ArgumentParser
import Benchmarks
import Foundation
import Networks
import Training

/// `sitelens bench memory`: peak memory per rank and time to the first step as the data set
/// grows, streaming beside cached; `MemoryBenchmark` says how.
struct BenchMemory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Peak resident memory per rank and seconds to the first step of ryczko on growing Lennard-Jones data sets, streaming and cached.",
        discussion: """
        For each size, a data set is generated (extxyz), then `mpirun -np RANKS sitelens bench memory-run` trains a few \
        steps of ryczko and reports each rank's peak resident memory (VmHWM) and seconds from start to its first step. \
        Cached runs are made only where every rank's images fit in --cached-limit.
        """)

    @Option(help: "Data set sizes (structures), comma-separated.")
    var sizes = "10000,40000,160000"

    @Option(help: "Ranks of each run.")
    var ranks = 2

    @Option(help: "Grid of the ryczko images.")
    var grid = 128

    @Option(help: "Training steps per run (global batch 32).")
    var steps = 3

    @Option(help: "Largest cached image memory per rank to try, e.g. 4G.")
    var cachedLimit: ByteCount = ByteCount(argument: "4G")!

    @Option(help: "Folder for the generated data (default: a temporary folder, removed after).")
    var work: String?

    func validate() throws {
        _ = try dataSetSizes()
        guard (1...256).contains(ranks) else { throw ValidationError("--ranks must be in 1...256, got \(ranks)") }
        guard (1...1_000_000).contains(steps) else { throw ValidationError("--steps must be in 1...1000000, got \(steps)") }
    }

    private func dataSetSizes() throws -> [Int] {
        try commaSeparated(sizes, option: "--sizes", expecting: "a structure count in 1...100000000") {
            Int($0).flatMap { (1...100_000_000).contains($0) ? $0 : nil }
        }
    }

    func run() throws {
        var configuration = MemoryBenchmark.Configuration()
        configuration.sizes = try dataSetSizes()
        configuration.ranks = ranks
        configuration.grid = grid
        configuration.steps = steps
        configuration.cachedLimitBytes = cachedLimit.bytes
        configuration.work = work.map { URL(fileURLWithPath: $0) }
        _ = try MemoryBenchmark(configuration, launcher: thisExecutable).run()
    }
}

/// `sitelens bench memory-run`: one measured run of `bench memory` (started under mpirun).
struct BenchMemoryRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "memory-run", abstract: "One run of `bench memory` (started by it).",
                                                    shouldDisplay: false)

    @Argument(help: "The extxyz data set.")
    var data: String

    @Option(help: "Grid of the ryczko images.")
    var grid = 128

    @Option(help: "Training steps.")
    var steps = 3

    @Option(help: "Image cache mode.")
    var imageCache: ImageCache = .never

    @Flag(help: "One sample at a time (as train --reproducible), to see what batched steps hold.")
    var reproducible = false

    func run() throws {
        try withMPI { mpi in
            setBLASThreads(1)
            let line = try MemoryBenchmark.measuredRun(world: mpi.world, data: data, grid: grid, steps: steps, imageCache: imageCache,
                                                       reproducible: reproducible)
            if let line { print(line) }
        }
    }
}

/// `sitelens bench index-run FILE`: the frame index of an extxyz file built in parallel by the
/// ranks of the job, as `FrameIndexCheck`; rank 0 prints it as JSON. For tests and for timing the scan.
struct BenchIndexRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "index-run", abstract: "The parallel frame index of an extxyz file, as JSON.",
                                                    shouldDisplay: false)

    @Argument(help: "The extxyz file.")
    var data: String

    func run() throws {
        try withMPI { mpi in
            if let check = try FrameIndexCheck.run(path: data, world: mpi.world) { print(try check.jsonLine()) }
        }
    }
}
