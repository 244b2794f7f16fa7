@testable import Basics
import Foundation
import Testing
import TestSupport
@testable import Networks
@testable import Structures
import Training


/// Writes a planted-truth site table of `rows` rows into a fresh folder.
func plantedData(rows: Int, seed: UInt64 = 3) throws -> (folder: URL, csv: String, truth: PlantedTruth) {
    let folder = try temporaryFolder("sitelens-train")
    let truth = try PlantedTruth()
    let csv = folder.appendingPathComponent("sites.csv")
    try truth.siteTable(count: rows, seed: seed).write(to: csv, atomically: true, encoding: .utf8)
    return (folder, csv.path, truth)
}

/// A finished 2-epoch run of one member in `folder/run`, trained from a planted table of `rows`
/// rows in `folder`.
func finishedRun(rows: Int = 40) throws -> (folder: URL, csv: String, run: URL) {
    let data = try plantedData(rows: rows)
    let run = data.folder.appendingPathComponent("run")
    let outcome = try runProcess(sitelens, ["train", data.csv, "--epochs", "2", "--run-dir", run.path], timeout: 300)
    #expect(outcome.status == 0, "\(outcome.stderr)")
    return (data.folder, data.csv, run)
}

/// `sitelens train` under mpirun; fails the test with the job's stderr if it does not succeed.
@discardableResult
func train(ranks: Int, _ arguments: [String], expectSuccess: Bool = true, timeout: Double = 600) throws -> ProcessOutcome {
    let run = try mpirun(ranks, sitelens, ["train"] + arguments, timeout: timeout)
    if expectSuccess { #expect(run.status == 0, "train on \(ranks) ranks failed:\n\(run.stderr.suffix(2000))") }
    return run
}

/// `mpirun -np 2 sitelens train ARGUMENTS` started in the background, its output into `log`
/// (nil: dropped), with the environment a user's mpirun has (one BLAS thread, root allowed).
func startTrainingJob(_ arguments: [String], log: URL? = nil) throws -> Process {
    let job = Process()
    job.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    job.arguments = ["mpirun", "-np", "2", sitelens, "train"] + arguments
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
    environment["OPENBLAS_NUM_THREADS"] = "1"
    if getuid() == 0 { environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1" }
    job.environment = environment
    if let log {
        FileManager.default.createFile(atPath: log.path, contents: nil)
        job.standardOutput = try FileHandle(forWritingTo: log)
    } else {
        job.standardOutput = FileHandle.nullDevice
    }
    job.standardError = job.standardOutput
    try job.run()
    return job
}

/// The ranks a background mpirun started (its child processes).
func ranks(of job: Process) -> [pid_t] {
    let pid = job.processIdentifier
    return ((try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? "")
        .split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

func memberParameters(_ runDirectory: URL, member: Int = 0) throws -> [Float] {
    try EnergyModel.load(from: runDirectory.appendingPathComponent("model"), name: "member-\(member)").parameters
}

func memberTensors(_ runDirectory: URL, member: Int = 0) throws -> [SafeTensors.Tensor] {
    try EnergyModel.load(from: runDirectory.appendingPathComponent("model"), name: "member-\(member)").tensors()
}

/// `largestRelativeDifference` (TestSupport) of two runs' tensors.
func largestRelativeDifference(_ a: [SafeTensors.Tensor], _ b: [SafeTensors.Tensor]) -> Double {
    largestRelativeDifference(a.map(\.values), b.map(\.values))
}

@Suite(.serialized)
struct DistributedTrainingTests {
    static let atomicOptions = ["--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6", "--filters", "4"]

    @Test(arguments: ["sites", "atomic"])
    func oneTwoAndThreeRanksEndWithTheSameParameters(model: String) throws {
        // 37 rows: 31 train after holding out 15 %, divisible by neither 2 nor 3.
        let (folder, csv, _) = try plantedData(rows: 37)
        let options = (model == "atomic" ? Self.atomicOptions : ["--model", "sites"])
            + [csv, "--epochs", "2", "--batch-size", "8", "--seed", "11", "--checksum-every", "1", "--reproducible"]
        var results: [[SafeTensors.Tensor]] = []
        for ranks in [1, 2, 3] {
            let run = folder.appendingPathComponent("run\(ranks)")
            try train(ranks: ranks, options + ["--run-dir", run.path])
            results.append(try memberTensors(run))
        }
        for ranks in [2, 3] {
            let difference = largestRelativeDifference(results[0], results[ranks - 1])
            #expect(difference <= 1e-5, "\(model): 1 rank and \(ranks) ranks differ by \(difference)")
        }
    }

    @Test func theSameRankCountGivesBitIdenticalWeights() throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        for name in ["a", "b"] {
            try train(ranks: 2, Self.atomicOptions + [csv, "--epochs", "2", "--batch-size", "8", "--run-dir", folder.appendingPathComponent(name).path])
        }
        let a = try Data(contentsOf: folder.appendingPathComponent("a/model/member-0.safetensors"))
        let b = try Data(contentsOf: folder.appendingPathComponent("b/model/member-0.safetensors"))
        #expect(a == b)
    }

    @Test func anInterruptedAndResumedRunEndsBitIdentical() throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        let common = [csv, "--epochs", "4", "--batch-size", "8", "--checkpoint-every", "1", "--ensemble", "2", "--seed", "4"]
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        try train(ranks: 2, common + ["--run-dir", whole.path])
        try train(ranks: 2, common + ["--run-dir", parts.path, "--halt-after-epoch", "2"])
        let halted = try Checkpoint(parts, member: 1)
        #expect(halted == 2)
        // A halted run is not a finished ensemble; a new run may not reuse its folder; a resume
        // that changes what defines the run is refused, naming the change.
        let early = try runProcess(sitelens, ["predict", "--run", parts.path, csv, "--out", folder.appendingPathComponent("p.csv").path])
        #expect(early.status != 0 && early.stderr.contains("did not finish"), "\(early.stderr)")
        let reused = try train(ranks: 2, common + ["--run-dir", parts.path], expectSuccess: false, timeout: 60)
        #expect(reused.status != 0 && reused.stderr.contains("holds an earlier run"), "\(reused.stderr.suffix(800))")
        let changed = try train(ranks: 2, common.map { $0 == "4" ? "5" : $0 } + ["--resume", parts.path], expectSuccess: false, timeout: 60)
        #expect(changed.status != 0 && changed.stderr.contains("--seed") && changed.stderr.contains("--batch-size") == false,
                "\(changed.stderr.suffix(800))")
        try train(ranks: 2, common + ["--resume", parts.path])
        for member in [0, 1] {
            #expect(try memberParameters(whole, member: member) == memberParameters(parts, member: member), "member \(member)")
        }
        // The resumed run's history covers every epoch, as the uninterrupted one's does.
        let epochs = { (run: URL) in try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").count }
        #expect(try epochs(parts) == 8 && epochs(whole) == 8)
    }

    /// A job killed mid-run keeps each member's finished epochs in its log; resumed, it ends
    /// with every epoch of every member once in metrics.jsonl, and the same weights as a run
    /// that was never interrupted.
    @Test func aKilledRunResumesWithEveryEpochOnce() throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        let common = [csv, "--batch-size", "8", "--checkpoint-every", "1", "--ensemble", "2", "--seed", "6", "--print-every", "100000"]
        let killed = folder.appendingPathComponent("killed")
        let logs = (0..<2).map { MetricsLog.memberLog(RunFolder(killed), member: $0) }
        let lines = { (url: URL) in ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").count }
        let job = try startTrainingJob(common + ["--epochs", "100000", "--run-dir", killed.path])
        let start = Date()
        while logs.contains(where: { lines($0) < 3 }) && Date().timeIntervalSince(start) < 120 { usleep(100_000) }
        // A crash: the ranks die at once (mpirun then ends the job).
        let rankIDs = ranks(of: job)
        for rank in rankIDs { kill(rank, SIGKILL) }
        if rankIDs.isEmpty { job.terminate() }
        job.waitUntilExit()
        // The killed ranks may outlive mpirun for a moment; the resume below must not race them.
        while !rankIDs.allSatisfy({ RunLock.processIsGone($0) }) && Date().timeIntervalSince(start) < 180 { usleep(50_000) }
        #expect(logs.allSatisfy { lines($0) >= 3 }, "each member's epochs are logged as they finish")
        #expect(!FileManager.default.fileExists(atPath: killed.appendingPathComponent("metrics.jsonl").path), "the job did not reach its end")
        // The kill may also cut a line short; make sure one is.
        let handle = try FileHandle(forWritingTo: logs[0])
        _ = try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"member":0,"epoch":"#.utf8))
        try handle.close()

        let epochs = try (0..<2).map { try Checkpoint(killed, member: $0) }.max()! + 2
        let resumed = try train(ranks: 2, common + ["--epochs", "\(epochs)", "--resume", killed.path])
        #expect(resumed.stdout.contains("cut short"), "\(resumed.stdout.suffix(1500))")
        let recorded = try MetricsLog.read(from: RunFolder(killed))
        for member in 0..<2 {
            #expect(recorded.filter { $0.member == member }.map(\.epoch) == Array(1...epochs), "member \(member)")
        }
        let whole = folder.appendingPathComponent("whole")
        try train(ranks: 2, common + ["--epochs", "\(epochs)", "--run-dir", whole.path])
        for member in 0..<2 {
            #expect(try memberParameters(whole, member: member) == memberParameters(killed, member: member), "member \(member)")
        }
    }

    /// The epoch recorded in a member's checkpoint.
    func Checkpoint(_ run: URL, member: Int) throws -> Int {
        try Training.Checkpoint.read(from: RunFolder(run).checkpoint(member: member)).header.epoch
    }

    @Test func aBadRecordOnOneRankEndsTheJobWithItsMessage() throws {
        // Structures with site labels; structure 8 lacks site Nsub3, and only its owner encodes it.
        let folder = try temporaryFolder("sitelens-bad")
        let template = SiteTemplate.fcc111Top()
        var generator = SeededGenerator(seed: 2)
        var structures: [Structure] = []
        for i in 0..<12 {
            var s = try template.structure(elements: (0..<10).map { _ in ["Fe", "Co", "Ni"][generator.nextIndex(below: 3)] },
                                           energy: generator.uniform(-2, -1), adsorbate: nil)
            if i == 7 { s.siteLabels![9] = "odd" }
            structures.append(s)
        }
        let input = folder.appendingPathComponent("bad.xyz")
        try ExtXYZ.write(structures, to: input)
        let run = try train(ranks: 3, [input.path, "--epochs", "50", "--run-dir", folder.appendingPathComponent("run").path],
                            expectSuccess: false, timeout: 60)
        #expect(run.status != 0 && !run.timedOut && run.seconds < 30, "status \(run.status) after \(run.seconds) s")
        #expect(run.stderr.contains("structure 8") && run.stderr.contains("no atom at site 'Nsub3'"), "\(run.stderr.prefix(1500))")
        #expect(run.stderr.contains("sitelens: rank "))
    }

    /// Streaming (rasterise each step's samples, prefetching the next step's) and caching the
    /// shard give the same parameters, bit for bit, on the same rank count.
    @Test func streamingAndCachedShardsTrainTheSameParameters() throws {
        let folder = try temporaryFolder("sitelens-stream")
        let clusters = folder.appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: 30, seed: 4), to: clusters)
        let common = [clusters.path, "--model", "ryczko", "--grid", "16", "--extent", "5", "--blocks", "1", "--dense", "8",
                      "--epochs", "2", "--batch-size", "8", "--seed", "2"]
        let cached = folder.appendingPathComponent("cached"), streamed = folder.appendingPathComponent("streamed")
        let a = try train(ranks: 2, common + ["--image-cache", "always", "--run-dir", cached.path])
        let b = try train(ranks: 2, common + ["--image-cache", "never", "--run-dir", streamed.path])
        #expect(a.stdout.contains("image cache: cached") && b.stdout.contains("image cache: streaming"), "\(a.stdout)\n\(b.stdout)")
        #expect(try Data(contentsOf: cached.appendingPathComponent("model/member-0.safetensors"))
                == Data(contentsOf: streamed.appendingPathComponent("model/member-0.safetensors")))
        // auto with a tiny budget streams, and says why.
        let auto = try train(ranks: 2, common + ["--memory-budget", "1K", "--run-dir", folder.appendingPathComponent("auto").path])
        #expect(auto.stdout.contains("image cache: streaming") && auto.stdout.contains("budget 0 MB"), "\(auto.stdout)")
    }

    /// A malformed frame in the middle of an extxyz file: the rank that parses it ends the job
    /// naming the file and the frame's line in the whole file.
    @Test func aBadFrameReadByOneRankEndsTheJobWithFileAndLine() throws {
        let folder = try temporaryFolder("sitelens-badframe")
        let frames = LennardJonesClusters.generate(count: 12, seed: 1)
        let input = folder.appendingPathComponent("bad.xyz")
        try ExtXYZ.write(frames, to: input)
        var lines = try String(contentsOf: input, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The first atom line of frame 10: after nine frames of (2 + atoms) lines, plus its count and comment lines.
        let badLine = frames.prefix(9).reduce(0) { $0 + 2 + $1.count } + 3
        lines[badLine - 1] = "Ar 0.0 zero 0.0"
        try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        let run = try train(ranks: 3, [input.path, "--model", "ryczko", "--grid", "16", "--blocks", "1", "--dense", "8",
                                       "--run-dir", folder.appendingPathComponent("run").path], expectSuccess: false, timeout: 60)
        #expect(run.status != 0 && !run.timedOut && run.seconds < 30)
        #expect(run.stderr.contains("bad.xyz:\(badLine)"), "expected line \(badLine): \(run.stderr.prefix(1500))")
    }

    @Test func aMissingFileEndsTheJobWithItsName() throws {
        let run = try train(ranks: 3, ["/nonexistent/sites.csv", "--run-dir", "/tmp/never"], expectSuccess: false, timeout: 60)
        #expect(run.status != 0 && run.seconds < 30)
        #expect(run.stderr.contains("/nonexistent/sites.csv: cannot read the file"), "\(run.stderr.prefix(1500))")
    }

    @Test func aLossGoneNaNStopsTheJobAndKeepsTheLastGoodCheckpoint() throws {
        let (folder, csv, _) = try plantedData(rows: 60)
        let run = folder.appendingPathComponent("run")
        let common = [csv, "--epochs", "6", "--optimizer", "sgd", "--checkpoint-every", "1", "--run-dir", run.path]
        try train(ranks: 3, common + ["--learning-rate", "0.01", "--halt-after-epoch", "2"])
        let good = try Data(contentsOf: run.appendingPathComponent("checkpoints/member-0.ckpt"))
        // Resume with a step so large the loss overflows in the next epoch.
        let failed = try train(ranks: 3, common + ["--learning-rate", "1e30", "--resume", run.path], expectSuccess: false, timeout: 60)
        #expect(failed.status != 0 && failed.seconds < 30)
        #expect(failed.stderr.contains("NaN or Inf in epoch 3"), "\(failed.stderr.prefix(1500))")
        #expect(try Data(contentsOf: run.appendingPathComponent("checkpoints/member-0.ckpt")) == good)
        #expect(try Checkpoint(run, member: 0) == 2)
    }

    @Test func aPlantedTruthIsRecoveredByAnEnsembleOnThreeRanks() throws {
        let (folder, csv, truth) = try plantedData(rows: 600)
        let run = folder.appendingPathComponent("run")
        try train(ranks: 3, [csv, "--epochs", "300", "--ensemble", "3", "--learning-rate", "0.01", "--print-every", "100", "--run-dir", run.path])
        let text = try String(contentsOf: run.appendingPathComponent("decomposition.csv"), encoding: .utf8)
        var recovered: [String: Double] = [:]
        var members: Set<String> = []
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            recovered["\(f[0])|\(f[1])"] = Double(f[2])!
            members.insert(f[4])
        }
        #expect(members == ["3"])
        let largest = truth.elementSpread.max()!
        for (s, site) in truth.siteNames.enumerated() {
            let found = truth.elements.map { recovered["\(site)|\($0)"]! }
            let foundMean = found.reduce(0, +) / Double(found.count)
            let trueMean = truth.contributions[s].reduce(0, +) / Double(found.count)
            let spread = found.max()! - found.min()!
            #expect(abs(spread - truth.elementSpread[s]) <= 0.05 * largest, "\(site): spread \(spread) vs \(truth.elementSpread[s])")
            for e in truth.elements.indices {
                let error = abs((found[e] - foundMean) - (truth.contributions[s][e] - trueMean))
                #expect(error <= 0.05 * largest, "\(site) \(truth.elements[e]): centred error \(error) (largest spread \(largest))")
            }
        }
        for name in ["decomposition.json", "site-influence.svg", "element-site.svg", "parity.svg", "learning-curve.svg", "metrics.jsonl",
                     "model/member-2.safetensors", "model/member-2.json"] {
            #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(name).path), "missing \(name)")
        }
        let metrics = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(metrics.count == 900)
    }
}
