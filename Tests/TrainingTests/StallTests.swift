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
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let job = Process()
        job.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        job.arguments = ["mpirun", "-np", "2", sitelens, "train", csv, "--epochs", "100000", "--checkpoint-every", "1",
                         "--print-every", "100000", "--stall-timeout", "5", "--run-dir", run.path]
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("OMPI_") && !$0.key.hasPrefix("PMIX_") }
        environment["OPENBLAS_NUM_THREADS"] = "1"
        if getuid() == 0 { environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1" }
        job.environment = environment
        job.standardOutput = try FileHandle(forWritingTo: log)
        job.standardError = job.standardOutput
        try job.run()
        defer { if job.isRunning { job.terminate() } }
        let start = Date()
        let checkpoint = run.appendingPathComponent("checkpoints/member-0.ckpt")
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date().timeIntervalSince(start) < 120 { usleep(100_000) }
        let pid = job.processIdentifier
        let ranks = ((try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? "")
            .split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(ranks.count == 2, "mpirun's ranks: \(ranks)")
        guard let stopped = ranks.last else { return }
        kill(stopped, SIGSTOP)
        defer { kill(stopped, SIGKILL) }
        let stoppedAt = Date()
        while job.isRunning && Date().timeIntervalSince(stoppedAt) < 60 { usleep(100_000) }
        let seconds = Date().timeIntervalSince(stoppedAt)
        #expect(!job.isRunning && seconds < 30, "the job outlived the stopped rank by \(seconds) s")
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
