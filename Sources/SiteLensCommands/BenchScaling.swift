import ArgumentParser
import Foundation
import MPI
import Structures
import Training

/// `sitelens bench scaling`: the same training on 1, 2 and 4 ranks, side by side, with each
/// gradient all-reduce mode on several ranks (one blocking all-reduce after backward, the
/// reference; buckets overlapped with backward). Beside them, the machine's own ceiling: N ranks
/// each training a member of its own (an ensemble of N, no gradient exchanged), which shows what
/// N processes get from N cores at all (shared caches, memory bandwidth, clock, a noisy host).
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
        print("Scaling benchmark: one BLAS thread per rank, \(cores) cores; epochs 2–\(epochs) of \(epochs) are timed (all of one if 1); "
              + "\(repeats) round(s), each running every configuration once in turn; medians shown, the speed-up as the median of each round's ratio to that round's first run.")
        print("Independent: each rank trains a member of its own (--ensemble N on N ranks: no all-reduce, no waiting for another rank); their samples/s summed are the most N processes get from this machine, and \"÷ independent\" is a data-parallel run's share of that ceiling in the same round.")
        print("All-reduce share: the part of the epoch spent waiting for the gradient all-reduce after backward (not hidden behind it), by the rank that waited least, so waiting for a slower rank is not counted.")
        print("Load average at the start: \(loadAverage())")
        let models: [(String, [String])] = [
            ("ryczko G=\(grid)", [clusters.path, "--model", "ryczko", "--grid", "\(grid)", "--extent", "5", "--batch-size", "32"]),
            ("atomic", [sites.path, "--model", "atomic", "--batch-size", "32"]),
        ]
        let modes = allReduce.split(separator: ",").map(String.init)
        // One rank reduces nothing: the mode does not matter there.
        let configurations = models.flatMap { model in
            ranks.split(separator: ",").compactMap { Int($0) }.flatMap { count in
                (count == 1 ? ["-"] : [Self.independent] + modes).map { (model: model, ranks: count, mode: $0) }
            }
        }
        var figures = [[(rate: Double, share: Double)?]](repeating: [], count: configurations.count)
        for round in 0..<repeats {
            for (index, configuration) in configurations.enumerated() {
                let (name, arguments) = configuration.model
                let label = "\(name.prefix(6))-\(configuration.ranks)-\(configuration.mode.replacingOccurrences(of: ":", with: "_"))-\(round)"
                let choice: [String] = switch configuration.mode {
                case "-": []
                case Self.independent: ["--ensemble", "\(configuration.ranks)"]
                default: ["--all-reduce", configuration.mode]
                }
                figures[index].append(measure(ranks: configuration.ranks, arguments + choice, in: folder.appendingPathComponent(label)))
            }
        }
        let widths = [14, 20, 18, 11, 10, 12, 15, 18]
        printRow(["model", "ranks", "all-reduce", "samples/s", "speed-up", "efficiency", "÷ independent", "all-reduce share"], widths)
        for (index, configuration) in configurations.enumerated() {
            let (name, count, mode) = (configuration.model.0, configuration.ranks, configuration.mode)
            let runs = figures[index].compactMap { $0 }
            guard !runs.isEmpty else {
                print("\(name): the \(count)-rank run (\(mode)) failed")
                continue
            }
            // The model's first configuration, in the same round, is the reference.
            let reference = configurations.firstIndex { $0.model.0 == name } ?? index
            let ratios = zip(figures[index], figures[reference]).compactMap { run, base in run.flatMap { r in base.map { r.rate / $0.rate } } }
            let speedUp = median(ratios)
            // The ceiling: the same model and rank count trained as independent members, same round.
            let ceiling = configurations.firstIndex { $0.model.0 == name && $0.ranks == count && $0.mode == Self.independent }
            let ofCeiling = ceiling.flatMap { ceiling in
                ceiling == index ? nil : median(zip(figures[index], figures[ceiling]).compactMap { run, top in run.flatMap { r in top.map { r.rate / $0.rate } } })
            }
            printRow([name, "\(count)\(count > cores ? " (oversubscribed)" : "")", mode == "-" ? "none" : mode,
                      String(format: "%.1f", median(runs.map(\.rate)) ?? .nan), speedUp.map { String(format: "%.2f×", $0) } ?? "-",
                      speedUp.map { String(format: "%.0f%%", 100 * $0 / Double(count)) } ?? "-",
                      ofCeiling.map { String(format: "%.0f%%", 100 * $0) } ?? "-",
                      String(format: "%.1f%%", 100 * (median(runs.map(\.share)) ?? .nan))], widths)
            if repeats > 1, ratios.count > 1, index != reference {
                print("    each round: " + ratios.map { String(format: "%.2f×", $0) }.joined(separator: " "))
            }
        }
        for count in ranks.split(separator: ",").compactMap({ Int($0) }) where count > 1 {
            print("")
            fflush(nil)  // the child writes to the same output: what is printed so far goes first
            let process = mpirunThisBinary(ranks: count, ["bench", "overlap-run", "--all-reduce", allReduce])
            try process.run()
            process.waitUntilExit()
            if process.terminationStatus != 0 { print("the \(count)-rank overlap run failed (exit \(process.terminationStatus))") }
        }
        print("Load average at the end: \(loadAverage())")
    }

    /// The mode that trains one member per rank instead of one member over all of them.
    static let independent = "independent"

    /// One training run's timed epochs (all but the first, unless there is one): samples/s
    /// (summed over members, which train at once) and all-reduce share over their time (the
    /// largest member's), or nil if it failed.
    private func measure(ranks count: Int, _ arguments: [String], in run: URL) -> (rate: Double, share: Double)? {
        let process = mpirunThisBinary(ranks: count, ["train"] + arguments
            + ["--epochs", "\(epochs)", "--validation-fraction", "0", "--blas-threads", "1", "--print-every", "1000", "--run-dir", run.path])
        process.standardOutput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let text = try? String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8) else { return nil }
        let epochs = text.split(separator: "\n").compactMap { line -> (member: Int, rate: Double, seconds: Double, share: Double)? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let member = (object["member"] as? NSNumber)?.intValue,
                  let rate = (object["samplesPerSecond"] as? NSNumber)?.doubleValue,
                  let seconds = (object["seconds"] as? NSNumber)?.doubleValue,
                  let share = (object["allReduceShare"] as? NSNumber)?.doubleValue else { return nil }
            return (member, rate, seconds, share)
        }
        let members = Dictionary(grouping: epochs, by: \.member).values.compactMap { epochs -> (rate: Double, share: Double)? in
            let timed = epochs.count > 1 ? Array(epochs.dropFirst()) : epochs
            let seconds = timed.reduce(0) { $0 + $1.seconds }
            guard seconds > 0 else { return nil }
            return (timed.reduce(0) { $0 + $1.rate * $1.seconds } / seconds, timed.reduce(0) { $0 + $1.share * $1.seconds } / seconds)
        }
        guard !members.isEmpty else { return nil }
        return (members.reduce(0) { $0 + $1.rate }, members.map(\.share).max() ?? 0)
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

/// `bench scaling`'s second table, one run under mpirun (started by it): how much of an
/// all-reduce each mode hides behind a stand-in backward of fixed work (no network, no data,
/// so only the communication differs between the rows). The buffer is cut into equal "layers";
/// after each, the overlapped modes start the buckets then complete and poll them.
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
        for mode in allReduce.split(separator: ",") where GradientReduction(String(mode)) == nil {
            throw ValidationError("--all-reduce: '\(mode)' is not single, buckets, buckets:BYTES or buckets[:BYTES]:nopoll")
        }
    }

    func run() throws {
        try withMPI { mpi in
            let world = mpi.world
            let count = mebibytes << 17
            let buffer = StableBuffer<Double>(count: count, repeating: 0)
            let starts = (0..<layers).map { $0 * count / layers }
            // The whole buffer's all-reduce alone: what there is to hide.
            let alone = try medianOverRounds(world) { try world.allReduce(inPlace: buffer.storage, op: .sum) }
            var rows: [(String, Double, Double)] = [("transfer alone", .nan, alone.wait)]
            var sink = 0.0
            // "barrier": the wait an infinitely fast all-reduce would leave (ranks finishing apart).
            for name in ["barrier"] + allReduce.split(separator: ",").map(String.init) {
                let mode = GradientReduction(name)
                let buckets = mode.flatMap { $0.bucketBytes > 0 ? BucketedAllReduce(buffer: buffer, boundaries: starts, bucketBytes: $0.bucketBytes, over: world) : nil }
                let figures = try medianOverRounds(world) { expected in
                    buffer.storage.update(repeating: Double(world.rank + 1))
                    buckets?.reset()
                    let backward = try timed {
                        for l in (0..<layers).reversed() {
                            sink += standInWork(layerWork)
                            try buckets?.startBuckets(from: starts[l])
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
                rows.append((name, figures.backward, figures.wait))
            }
            guard world.isRoot else { return }
            let widths = [26, 13, 24, 12]
            let reference = rows.first { $0.0 == "single" }?.2
            print("Overlap on \(world.size) ranks: \(mebibytes) MiB of doubles in \(layers) layers, stand-in backward of fixed work, median of \(rounds) rounds (slowest rank):")
            for row in [["all-reduce", "backward ms", "wait after backward ms", "÷ single"]] + rows.map({ name, backward, wait in
                [name, backward.isNaN ? "-" : String(format: "%.2f", 1000 * backward), String(format: "%.2f", 1000 * wait),
                 reference.map { String(format: "%.2f", wait / max($0, 1e-9)) } ?? "-"]
            }) {
                print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined())
            }
            if sink.isNaN { print("") }  // keeps the stand-in work from being optimised away
        }
    }

    /// Runs `round` `rounds` times after a barrier each; per round the slowest rank's figures;
    /// the medians. `round` gets the value every element must end with and returns (backward, wait) seconds.
    private func medianOverRounds(_ world: Communicator, _ round: (Double) throws -> (Double, Double)) throws -> (backward: Double, wait: Double) {
        let p = Double(world.size)
        var backwards: [Double] = [], waits: [Double] = []
        for _ in 0..<rounds {
            try world.barrier()
            let (backward, wait) = try round(p * (p + 1) / 2)
            let slowest = try world.allReduce([backward, wait], op: .max)
            backwards.append(slowest[0])
            waits.append(slowest[1])
        }
        return (median(backwards) ?? .nan, median(waits) ?? .nan)
    }

    private func medianOverRounds(_ world: Communicator, _ body: () throws -> Void) throws -> (backward: Double, wait: Double) {
        try medianOverRounds(world) { _ in (0, try timed(body)) }
    }

    private func timed(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        let elapsed = (ContinuousClock.now - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
    }
}

/// The middle value (the upper one of an even count), nil for none: both tables' "median".
private func median(_ values: [Double]) -> Double? {
    values.isEmpty ? nil : values.sorted()[values.count / 2]
}

/// A chain of dependent multiply-adds: fixed work that no compiler can shorten.
private func standInWork(_ steps: Int) -> Double {
    var x = 1.0
    for _ in 0..<steps { x = x * 0.999_999 + 1e-7 }
    return x
}
