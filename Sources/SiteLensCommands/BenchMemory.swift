import ArgumentParser
import Basics
import Images
import Networks
import Foundation
import MPI
import Structures
import Training

/// `sitelens bench memory`: peak memory per rank and time to the first step as the data set
/// grows, streaming beside cached.
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

    func run() throws {
        let folder = URL(fileURLWithPath: work ?? FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-memory-\(getpid())").path)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { if work == nil { try? FileManager.default.removeItem(at: folder) } }
        let counts = sizes.split(separator: ",").compactMap { Int($0) }
        print("Memory benchmark: ryczko G=\(grid), \(steps) steps of batch 32 on \(ranks) ranks, one BLAS thread each; "
              + "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 20) MB memory.")
        print(["structures", "file MB", "mode", "peak MB/rank", "first step s", "peak ÷ smallest", "time ÷ (file/ranks)"]
            .map { $0.padding(toLength: 17, withPad: " ", startingAt: 0) }.joined())
        var first: [String: (peak: Double, seconds: Double, megabytes: Double)] = [:]
        for count in counts {
            let data = folder.appendingPathComponent("lj-\(count).xyz")
            try writeClusters(count: count, to: data)
            let megabytes = Double((try FileManager.default.attributesOfItem(atPath: data.path)[.size] as? Int) ?? 0) / 1048576
            let imageBytes = 4 * grid * grid * (count / ranks + 1)
            let modes = imageBytes <= cachedLimit.bytes ? ["never", "always"] : ["never"]
            for mode in modes {
                let name = mode == "never" ? "streaming" : "cached"
                guard let usage = try measure(data: data, mode: mode) else {
                    print("\(count): the \(name) run failed")
                    continue
                }
                let peak = Double(usage.map(\.peakResidentBytes).max() ?? 0) / 1048576
                let seconds = usage.compactMap(\.secondsToFirstStep).max() ?? .nan
                let base = first[name] ?? (peak, seconds, megabytes)
                first[name] = base
                let row = ["\(count)", String(format: "%.1f", megabytes), name, String(format: "%.0f", peak), String(format: "%.2f", seconds),
                           String(format: "%.2f×", peak / base.peak),
                           String(format: "%.2f (file %.1f×)", seconds / base.seconds, megabytes / base.megabytes)]
                print(row.map { $0.padding(toLength: 17, withPad: " ", startingAt: 0) }.joined())
            }
            if work == nil { try? FileManager.default.removeItem(at: data) }
        }
        if counts.count > 1 { print("memory-flat goal: streaming peak within 20 % over a \(counts.last! / max(counts[0], 1))× larger data set") }
    }

    /// Lennard-Jones clusters written in blocks, so generating a large set needs little memory.
    private func writeClusters(count: Int, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = FileHandle(forWritingAtPath: url.path) else {
            throw ValidationError("cannot write \(url.path)")
        }
        defer { try? handle.close() }
        let block = 10_000
        let scratch = url.deletingLastPathComponent().appendingPathComponent(".block-\(getpid()).xyz")
        for start in stride(from: 0, to: count, by: block) {
            try ExtXYZ.write(LennardJonesClusters.generate(count: min(block, count - start), seed: UInt64(1 + start / block)), to: scratch)
            try handle.write(contentsOf: Data(contentsOf: scratch))
        }
        try? FileManager.default.removeItem(at: scratch)
    }

    private func measure(data: URL, mode: String) throws -> [ResourceUsage]? {
        let process = mpirunThisBinary(ranks: ranks, ["bench", "memory-run", data.path, "--grid", "\(grid)", "--steps", "\(steps)",
                                                      "--image-cache", mode])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let line = text.split(separator: "\n").last(where: { $0.hasPrefix("[") }) else { return nil }
        return try JSONDecoder().decode([ResourceUsage].self, from: Data(line.utf8))
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
            let (structures, _) = try openStructures(StructureSource(path: data, format: .extxyz), world: mpi.world)
            var plan = timingPlan(.ryczko, epochs: 1)
            plan.maximumSteps = steps
            plan.imageCache = imageCache
            plan.reproducible = reproducible
            plan.memoryBudget = Int.max
            plan.modelOptions.raster = RasterSettings(gridSize: grid, extent: 5, sigma: 0.2)
            plan.modelOptions.ryczkoBlocks = 1
            plan.modelOptions.ryczkoDense = 64
            let trained = try trainEnsemble(world: mpi.world, plan: plan, structures: structures)
            if mpi.world.rank == 0 { print(String(decoding: try JSONEncoder().encode(trained.resources), as: UTF8.self)) }
        }
    }
}

/// `sitelens bench index-run FILE`: the frame index of an extxyz file built in parallel by the
/// ranks of the job (as `train` builds it); rank 0 prints it as JSON, after checking that every
/// rank holds the same one. For tests and for timing the scan.
struct BenchIndexRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "index-run", abstract: "The parallel frame index of an extxyz file, as JSON.",
                                                    shouldDisplay: false)

    @Argument(help: "The extxyz file.")
    var data: String

    /// What rank 0 prints.
    struct Printed: Codable {
        var offsets: [Int64]
        var lines: [UInt32]
        var ranksAgree: Bool
        var seconds: Double
    }

    func run() throws {
        try withMPI { mpi in
            let started = ContinuousClock.now
            let index = try parallelFrameIndex(path: data, world: mpi.world)
            let elapsed = started.duration(to: .now).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            let everyRank = try mpi.world.gather([index.offsets.map(UInt64.init(bitPattern:)), index.lines.map(UInt64.init)], root: 0)
            guard let everyRank else { return }
            let printed = Printed(offsets: index.offsets, lines: index.lines, ranksAgree: Set(everyRank.map { $0 }).count == 1, seconds: seconds)
            print(String(decoding: try JSONEncoder().encode(printed), as: UTF8.self))
        }
    }
}
