import ArgumentParser
import Foundation
import Structures

/// `sitelens bench scaling`: the same training on 1, 2 and 4 ranks, side by side.
struct BenchScaling: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scaling",
        abstract: "samples/s, parallel efficiency against 1 rank and the all-reduce share, for ryczko and atomic on 1, 2, 4 ranks.")

    @Option(help: "Rank counts, comma-separated.")
    var ranks = "1,2,4"

    @Option(help: "Epochs per run; the last one is timed.")
    var epochs = 2

    @Option(help: "Grid of the ryczko images.")
    var grid = 64

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-scaling-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let clusters = folder.appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: 256, seed: 9), to: clusters)
        let sites = folder.appendingPathComponent("sites.csv")
        try (try PlantedTruth()).siteTable(count: 512, seed: 9).write(to: sites, atomically: true, encoding: .utf8)

        let cores = ProcessInfo.processInfo.activeProcessorCount
        print("Scaling benchmark: one BLAS thread per rank, \(cores) cores; the last of \(epochs) epochs is timed.")
        let models: [(String, [String])] = [
            ("ryczko G=\(grid)", [clusters.path, "--model", "ryczko", "--grid", "\(grid)", "--extent", "5", "--batch-size", "32"]),
            ("atomic", [sites.path, "--model", "atomic", "--batch-size", "32"]),
        ]
        print(["model", "ranks", "samples/s", "speed-up", "efficiency", "all-reduce share"].map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined())
        for (name, arguments) in models {
            var baseline: Double?
            for count in ranks.split(separator: ",").compactMap({ Int($0) }) {
                let run = folder.appendingPathComponent("\(name.prefix(6))-\(count)")
                let process = mpirunThisBinary(ranks: count, ["train"] + arguments
                    + ["--epochs", "\(epochs)", "--validation-fraction", "0", "--blas-threads", "1", "--print-every", "1000", "--run-dir", run.path])
                process.standardOutput = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0,
                      let text = try? String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8),
                      let last = text.split(separator: "\n").last,
                      let object = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any],
                      let rate = (object["samplesPerSecond"] as? NSNumber)?.doubleValue,
                      let share = (object["allReduceShare"] as? NSNumber)?.doubleValue else {
                    print("\(name): the \(count)-rank run failed (exit \(process.terminationStatus))")
                    continue
                }
                if baseline == nil { baseline = rate }
                let speedUp = rate / baseline!
                let row = [name, "\(count)\(count > cores ? " (oversubscribed)" : "")", String(format: "%.1f", rate),
                           String(format: "%.2f×", speedUp), String(format: "%.0f%%", 100 * speedUp / Double(count)),
                           String(format: "%.1f%%", 100 * share)]
                print(row.map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined())
            }
        }
    }
}
