@testable import Basics
import Foundation
import Structures
import Testing
import TestSupport
@testable import Training

/// `--resume` as a user meets it (issue 24): damaged or foreign checkpoints, changed options
/// and forged epochs are refused with the field or option named, and a refused resume leaves a
/// finished run finished.
struct ResumeIntegrityTests {
    /// A finished 2-epoch run with a checkpoint per epoch, trained on a table with a second
    /// energy column; `common` trains it again or resumes it.
    func finishedRun(seed: String = "4") throws -> (folder: URL, csv: String, run: URL, common: [String]) {
        let data = try plantedData(rows: 30)
        let truth = try PlantedTruth()
        let lines = try String(contentsOfFile: data.csv, encoding: .utf8).split(separator: "\n")
        let csv = data.folder.appendingPathComponent("two-targets.csv")
        let shifted = lines.enumerated().map { index, line in
            index == 0 ? line + ",E2" : line + "," + String(format: "%.6f", (Double(line.split(separator: ",")[truth.siteNames.count]) ?? 0) * 2)
        }
        try (shifted.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let run = data.folder.appendingPathComponent("run")
        let common = [csv.path, "--sites", truth.siteNames.joined(separator: ","), "--group", "Adsorbate=COOH",
                      "--checkpoint-every", "1", "--batch-size", "8", "--run-dir", run.path]
        let outcome = try runProcess(sitelens, ["train"] + common + ["--epochs", "2", "--seed", seed], timeout: 300)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return (data.folder, csv.path, run, common)
    }

    func resume(_ common: [String], _ extra: [String]) throws -> ProcessOutcome {
        let run = common[common.count - 1]
        return try runProcess(sitelens, ["train"] + common.dropLast(2) + ["--resume", run, "--epochs", "3", "--seed", "4"] + extra, timeout: 300)
    }

    func isComplete(_ run: URL) throws -> Bool { try RunRecord.read(from: RunFolder(run)).complete }

    /// `predict` still reads the run (the table read as training read it).
    func predicts(_ folder: URL, _ common: [String], _ run: URL) throws -> Bool {
        let out = folder.appendingPathComponent("p-\(UUID().uuidString.prefix(6)).csv")
        let outcome = try runProcess(sitelens, ["predict", "--run", run.path] + common.prefix(5) + ["--out", out.path], timeout: 120)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return outcome.status == 0
    }

    @Test func aDamagedCheckpointIsRefusedAndTheRunStaysFinished() throws {
        let (folder, _, run, common) = try finishedRun()
        let checkpoint = run.appendingPathComponent("checkpoints/member-0.ckpt")
        var bytes = try Data(contentsOf: checkpoint)
        bytes[bytes.count / 2] ^= 0x10
        try bytes.write(to: checkpoint)
        let outcome = try resume(common, [])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("member-0.ckpt") && outcome.stderr.contains("'checksum'"), "\(outcome.stderr)")
        #expect(try isComplete(run), "a refused resume keeps the finished run finished")
        #expect(try predicts(folder, common, run))
    }

    @Test func aCheckpointCopiedFromAnotherRunIsRefusedNamingTheField() throws {
        let (_, _, run, common) = try finishedRun()
        let (_, _, other, _) = try finishedRun(seed: "9")
        let target = run.appendingPathComponent("checkpoints/member-0.ckpt")
        try FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: other.appendingPathComponent("checkpoints/member-0.ckpt"), to: target)
        let outcome = try resume(common, [])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("belongs to another run") && outcome.stderr.contains("--seed: this run 4, the checkpointed run 9"),
                "\(outcome.stderr)")
        #expect(try isComplete(run))
    }

    @Test func changedTargetOrReproducibleIsRefusedAndAChangedLearningRateIsRecorded() throws {
        let (folder, _, run, common) = try finishedRun()
        let target = try resume(common, ["--target", "E2"])
        #expect(target.status != 0 && target.stderr.contains("--target: this run E2, the checkpointed run Eads"), "\(target.stderr)")
        let reproducible = try resume(common, ["--reproducible"])
        #expect(reproducible.status != 0 && reproducible.stderr.contains("--reproducible"), "\(reproducible.stderr)")
        #expect(try isComplete(run))
        let faster = try resume(common, ["--learning-rate", "0.002"])
        #expect(faster.status == 0, "\(faster.stderr)")
        #expect(faster.stdout.contains("--learning-rate 0.002 from here on") && faster.stdout.contains("with 0.001 through epoch 2"), "\(faster.stdout)")
        let record = try RunRecord.read(from: RunFolder(run))
        #expect(record.learningRate == 0.002 && record.earlierLearningRates == [.init(learningRate: 0.001, throughEpoch: [2])] && record.complete)
        #expect(record.options["--target"] == "Eads")
        #expect(try predicts(folder, common, run))
    }

    @Test func forgedEpochsAreRefused() throws {
        let (_, _, run, common) = try finishedRun()
        let url = run.appendingPathComponent("checkpoints/member-0.ckpt")
        let intact = try Checkpoint.read(from: url)
        // Written through the format, so the checksum is right: the claims themselves are refused.
        for (epoch, runEpochs, resumeEpochs, named) in [(-2, 2, 3, "header.epoch"), (999, 2, 1000, "header.epoch"),
                                                         (999, 1000, 1000, "metrics log")] {
            var forged = intact
            forged.header.epoch = epoch
            forged.header.run.epochs = runEpochs
            try forged.write(to: url)
            let outcome = try resume(common, ["--epochs", "\(resumeEpochs)"])
            #expect(outcome.status != 0 && outcome.status < 128, "epoch \(epoch): status \(outcome.status)")
            #expect(outcome.stderr.contains(named) && outcome.stderr.contains("\(epoch)"), "epoch \(epoch): \(outcome.stderr)")
            #expect(try isComplete(run))
        }
    }
}
