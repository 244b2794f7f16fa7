import Basics
import Foundation
import Testing
import TestSupport
@testable import Training

/// Training that diverges stops (issue 24, item 5): the run ends with a message naming the
/// member and the epoch, keeps its last good checkpoint and is not marked complete, on one
/// rank and with every rank of a group stopping together under mpirun.
@Suite(.serialized)
struct DivergenceTests {
    /// `sitelens train` on `ranks` ranks (1: one process without mpirun).
    func train(_ ranks: Int, _ arguments: [String]) throws -> ProcessOutcome {
        ranks == 1 ? try runProcess(sitelens, ["train"] + arguments, timeout: 120)
                   : try mpirun(ranks, sitelens, ["train"] + arguments, timeout: 120)
    }

    @Test(arguments: [(1, 1), (2, 1), (2, 2)])
    func aHugeLearningRateStopsTheRunNamingMemberAndEpoch(ranks: Int, ensemble: Int) throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        let run = folder.appendingPathComponent("run")
        let outcome = try train(ranks, [csv, "--epochs", "4", "--learning-rate", "1e30", "--ensemble", "\(ensemble)",
                                        "--checkpoint-every", "1", "--run-dir", run.path])
        #expect(outcome.status != 0 && !outcome.timedOut, "\(ranks) ranks: status \(outcome.status)\n\(outcome.stdout.suffix(600))")
        #expect(outcome.stderr.contains("member ") && outcome.stderr.contains("in epoch 1") && outcome.stderr.contains("training stops"),
                "\(ranks) ranks: \(outcome.stderr.suffix(1200))")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("predictions.csv").path))
        #expect(try RunRecord.read(from: RunFolder(run)).complete == false)
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoints/member-0.ckpt").path),
                "no epoch finished well, so no checkpoint")
    }

    @Test(arguments: [1, 2])
    func aRunThatDivergesOnResumeKeepsItsLastGoodCheckpoint(ranks: Int) throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        let run = folder.appendingPathComponent("run")
        let common = [csv, "--epochs", "6", "--checkpoint-every", "1", "--run-dir", run.path]
        let halted = try train(ranks, common + ["--halt-after-epoch", "2"])
        #expect(halted.status == 0, "\(halted.stderr.suffix(800))")
        let good = try Data(contentsOf: run.appendingPathComponent("checkpoints/member-0.ckpt"))
        let failed = try train(ranks, common + ["--learning-rate", "1e30", "--resume", run.path])
        #expect(failed.status != 0 && !failed.timedOut)
        #expect(failed.stderr.contains("member 0") && failed.stderr.contains("in epoch 3")
                && failed.stderr.contains("the last good checkpoint (epoch 2) is kept"), "\(failed.stderr.suffix(1200))")
        #expect(try Data(contentsOf: run.appendingPathComponent("checkpoints/member-0.ckpt")) == good)
        // The kept checkpoint still resumes, with a learning rate that trains.
        let resumed = try train(ranks, common + ["--resume", run.path])
        #expect(resumed.status == 0, "\(resumed.stderr.suffix(800))")
        #expect(try RunRecord.read(from: RunFolder(run)).complete)
    }
}
