import ArgumentParser
import Foundation
import Structures
import Training

/// `sitelens bench scaling`: the same training on 1, 2 and 4 ranks, side by side, with each
/// gradient all-reduce mode on several ranks (one blocking all-reduce after backward, the
/// reference; buckets overlapped with backward, the default).
struct BenchScaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "samples/s, parallel efficiency against 1 rank and the all-reduce share not hidden behind backward, for ryczko and atomic on 1, 2, 4 ranks.")

    @Option(help: "Rank counts, comma-separated.")
    var ranks = "1,2,4"

    @Option(help: "Epochs per run; the last one is timed.")
    var epochs = 2

    @Option(help: "Grid of the ryczko images.")
    var grid = 64

    @Option(help: "Gradient all-reduce modes compared on more than one rank, comma-separated: single (one blocking all-reduce after backward), buckets[:BYTES][:nopoll] (overlapped with backward; nopoll: no MPI_Test between layers).")
    var allReduce = "single,buckets"

    @Option(help: "Runs of each configuration; the median samples/s is shown (the machine may be shared).")
    var repeats = 1

    func validate() throws {
        guard (1...9).contains(repeats) else { throw ValidationError("--repeats must be in 1...9, got \(repeats)") }
        for mode in allReduce.split(separator: ",") where GradientReduction(String(mode)) == nil {
            throw ValidationError("--all-reduce: '\(mode)' is not single, buckets, buckets:BYTES or buckets[:BYTES]:nopoll")
        }
    }

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-scaling-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let clusters = folder.appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: 256, seed: 9), to: clusters)
        let sites = folder.appendingPathComponent("sites.csv")
        try (try PlantedTruth()).siteTable(count: 512, seed: 9).write(to: sites, atomically: true, encoding: .utf8)

        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("Scaling benchmark: one BLAS thread per rank, \(cores) cores; the last of \(epochs) epochs is timed, median of \(repeats) run(s).")
        print("All-reduce share: the part of the epoch spent waiting for the gradient all-reduce after backward (not hidden behind it).")
        print("Load average at the start: \(loadAverage())")
        let models: [(String, [String])] = [
            ("ryczko G=\(grid)", [clusters.path, "--model", "ryczko", "--grid", "\(grid)", "--extent", "5", "--batch-size", "32"]),
            ("atomic", [sites.path, "--model", "atomic", "--batch-size", "32"]),
        ]
        let modes = allReduce.split(separator: ",").map(String.init)
        let widths = [14, 20, 18, 11, 10, 12, 18]
        printRow(["model", "ranks", "all-reduce", "samples/s", "speed-up", "efficiency", "all-reduce share"], widths)
        for (name, arguments) in models {
            var baseline: Double?
            for count in ranks.split(separator: ",").compactMap({ Int($0) }) {
                // One rank reduces nothing: the mode does not matter there.
                for mode in count == 1 ? ["-"] : modes {
                    let label = "\(name.prefix(6))-\(count)-\(mode.replacingOccurrences(of: ":", with: "_"))"
                    let runs = (0..<repeats).compactMap { k in
                        measure(ranks: count, arguments + (mode == "-" ? [] : ["--all-reduce", mode]),
                                in: folder.appendingPathComponent("\(label)-\(k)"))
                    }
                    guard !runs.isEmpty else {
                        print("\(name): the \(count)-rank run (\(mode)) failed")
                        continue
                    }
                    let median = runs.sorted { $0.rate < $1.rate }[runs.count / 2]
                    if baseline == nil { baseline = median.rate }
                    let speedUp = median.rate / (baseline ?? median.rate)
                    printRow([name, "\(count)\(count > cores ? " (oversubscribed)" : "")", mode == "-" ? "none" : mode,
                              String(format: "%.1f", median.rate), String(format: "%.2f×", speedUp),
                              String(format: "%.0f%%", 100 * speedUp / Double(count)), String(format: "%.1f%%", 100 * median.share)], widths)
                }
            }
        }
        print("Load average at the end: \(loadAverage())")
    }

    /// One training run's last epoch: samples/s and all-reduce share, or nil if it failed.
    private func measure(ranks count: Int, _ arguments: [String], in run: URL) -> (rate: Double, share: Double)? {
        let process = mpirunThisBinary(ranks: count, ["train"] + arguments
            + ["--epochs", "\(epochs)", "--validation-fraction", "0", "--blas-threads", "1", "--print-every", "1000", "--run-dir", run.path])
        process.standardOutput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let text = try? String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8),
              let last = text.split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any],
              let rate = (object["samplesPerSecond"] as? NSNumber)?.doubleValue,
              let share = (object["allReduceShare"] as? NSNumber)?.doubleValue else { return nil }
        return (rate, share)
    }

    private func printRow(_ cells: [String], _ widths: [Int]) {
        print(zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined())
    }

    /// The 1, 5 and 15 minute load averages (/proc/loadavg), or "unknown".
    private func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}
