import Foundation
import Images
import MPI
import Structures
import Training

/// `bench memory`: peak resident memory per rank and seconds to the first step of ryczko as the
/// data set grows, streaming beside cached. For each size a data set is generated (extxyz), then
/// `mpirun -np RANKS sitelens bench memory-run` (`MemoryBenchmark.measuredRun`) trains a few steps
/// and reports each rank's peak (VmHWM) and seconds from start to its first step.
public struct MemoryBenchmark: Sendable {
    public struct Configuration: Sendable {
        /// Data set sizes (structures).
        public var sizes = [10_000, 40_000, 160_000]
        /// Ranks of each run.
        public var ranks = 2
        /// Grid of the ryczko images.
        public var grid = 128
        /// Training steps per run (global batch 32).
        public var steps = 3
        /// Largest cached image memory per rank to try: cached runs only where every rank's images fit.
        public var cachedLimitBytes = 4 << 30
        /// Folder for the generated data, kept; nil: a temporary folder, removed after.
        public var work: URL?
        public init() {}
    }

    public let configuration: Configuration
    public let launcher: SiteLensLauncher
    public let log: BenchmarkLog

    public init(_ configuration: Configuration, launcher: SiteLensLauncher, log: @escaping BenchmarkLog = printFlushed) {
        self.configuration = configuration
        self.launcher = launcher
        self.log = log
    }

    /// Runs every size in each mode that fits, prints and returns the table.
    public func run() throws -> BenchmarkTable {
        let folder = configuration.work ?? FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-memory-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { if configuration.work == nil { try? FileManager.default.removeItem(at: folder) } }
        let (grid, ranks) = (configuration.grid, configuration.ranks)
        log("Memory benchmark: ryczko G=\(grid), \(configuration.steps) steps of batch 32 on \(ranks) ranks, one BLAS thread each; "
            + "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 20) MB memory.")
        var table = BenchmarkTable(columns: ["structures", "file MB", "mode", "peak MB/rank", "first step s", "peak ÷ smallest", "time ÷ (file/ranks)"],
                                   width: 17)
        log(table.header)
        var first: [String: (peak: Double, seconds: Double, megabytes: Double)] = [:]
        for count in configuration.sizes {
            let data = folder.appendingPathComponent("lj-\(count).xyz")
            try writeClusters(count: count, to: data)
            let megabytes = Double((try FileManager.default.attributesOfItem(atPath: data.path)[.size] as? Int) ?? 0) / 1048576
            let imageBytes = 4 * grid * grid * (count / max(ranks, 1) + 1)
            for mode in imageBytes <= configuration.cachedLimitBytes ? [ImageCache.never, .always] : [.never] {
                let name = mode == .never ? "streaming" : "cached"
                guard let usage = try measure(data: data, mode: mode) else {
                    log("\(count): the \(name) run failed")
                    continue
                }
                let peak = Double(usage.map(\.peakResidentBytes).max() ?? 0) / 1048576
                let seconds = usage.compactMap(\.secondsToFirstStep).max() ?? .nan
                let base = first[name] ?? (peak, seconds, megabytes)
                first[name] = base
                log(table.append(["\(count)", String(format: "%.1f", megabytes), name, String(format: "%.0f", peak), String(format: "%.2f", seconds),
                                  String(format: "%.2f×", peak / base.peak), String(format: "%.2f (file %.1f×)", seconds / base.seconds, megabytes / base.megabytes)]))
            }
            if configuration.work == nil { try? FileManager.default.removeItem(at: data) }
        }
        if let smallest = configuration.sizes.first, let largest = configuration.sizes.last, configuration.sizes.count > 1 {
            log("memory-flat goal: streaming peak within 20 % over a \(largest / max(smallest, 1))× larger data set")
        }
        return table
    }

    /// Lennard-Jones clusters written in blocks, so generating a large set needs little memory.
    private func writeClusters(count: Int, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil), let handle = FileHandle(forWritingAtPath: url.path) else {
            throw TrainingError("bench memory: cannot write \(url.path)")
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

    /// One `bench memory-run` under mpirun: every rank's usage, or nil if it failed.
    private func measure(data: URL, mode: ImageCache) throws -> [ResourceUsage]? {
        let run = try launcher.mpirunCapturing(ranks: configuration.ranks, ["bench", "memory-run", data.path, "--grid", "\(configuration.grid)",
                                                                            "--steps", "\(configuration.steps)", "--image-cache", mode.rawValue])
        guard run.status == 0 else { return nil }
        return Self.usage(in: run.output)
    }

    /// What one run under `bench memory` measures: ryczko (one block, dense 64) trained for
    /// `steps` steps on the extxyz file `data`. Rank 0 gets every rank's usage as the line it
    /// prints (`usageLine`), the others nil.
    public static func measuredRun(world: Communicator, data: String, grid: Int, steps: Int, imageCache: ImageCache,
                                   reproducible: Bool) throws -> String? {
        let (structures, _) = try openStructures(StructureSource(path: data, format: .extxyz), world: world)
        var plan = timingPlan(.ryczko, epochs: 1)
        plan.maximumSteps = steps
        plan.imageCache = imageCache
        plan.reproducible = reproducible
        plan.memoryBudget = Int.max
        plan.modelOptions.raster = RasterSettings(gridSize: grid, extent: 5, sigma: 0.2)
        plan.modelOptions.ryczkoBlocks = 1
        plan.modelOptions.ryczkoDense = 64
        let trained = try trainEnsemble(world: world, plan: plan, structures: structures)
        guard world.rank == 0 else { return nil }
        return String(decoding: try JSONEncoder().encode(trained.resources), as: UTF8.self)
    }

    /// Every rank's usage from a `measuredRun`'s output (its last line that is a JSON array).
    static func usage(in output: String) -> [ResourceUsage]? {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("[") }) else { return nil }
        return try? JSONDecoder().decode([ResourceUsage].self, from: Data(line.utf8))
    }
}
