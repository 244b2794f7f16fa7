import Foundation
import Testing
import TestSupport

/// A rank that stops answering (stopped, not dead: nothing tells the others) ends the job after
/// `--stall-timeout` seconds with a message naming where the waiting rank was, instead of a hang
/// in the all-reduce.
struct StallTests {
    @Test func aStoppedRankEndsTheJobAfterTheStallTimeout() throws {
        let (folder, csv, _) = try plantedData(rows: 120)
        let run = folder.appendingPathComponent("run")
        let log = folder.appendingPathComponent("job.log")
        let job = try startTrainingJob([csv, "--epochs", "100000", "--checkpoint-every", "1", "--print-every", "100000",
                                        "--stall-timeout", "5", "--run-dir", run.path], log: log)
        defer { if job.isRunning { job.terminate() } }
        let start = Date()
        let checkpoint = run.appendingPathComponent("checkpoints/member-0.ckpt")
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date().timeIntervalSince(start) < 120 { usleep(100_000) }
        let ranks = ranks(of: job)
        #expect(ranks.count == 2, "mpirun's ranks: \(ranks)")
        guard let stopped = ranks.last else { return }
        kill(stopped, SIGSTOP)
        defer { kill(stopped, SIGKILL) }
        let stoppedAt = Date()
        while job.isRunning && Date().timeIntervalSince(stoppedAt) < 60 { usleep(100_000) }
        let seconds = Date().timeIntervalSince(stoppedAt)
        #expect(!job.isRunning && seconds < 30, "the job outlived the stopped rank by \(seconds) s")
        if job.isRunning { job.terminate() }  // never wait on a hung job
        job.waitUntilExit()
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(job.terminationStatus != 0)
        #expect(output.contains("no training step finished for") && output.contains("member 0, epoch"), "\(output.suffix(1500))")
    }

    @Test func theStallTimeoutIsBounded() throws {
        let (_, csv, _) = try plantedData(rows: 20)
        let outcome = try runProcess(sitelens, ["train", csv, "--stall-timeout", "1"], timeout: 60)
        #expect(outcome.status != 0 && outcome.stderr.contains("--stall-timeout must be 0 (off) or in"), "\(outcome.stderr)")
    }
}
