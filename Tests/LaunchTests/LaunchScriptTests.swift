import Foundation
import Testing
import TestSupport

/// The Launch scripts, run for real: the local launcher under mpirun, and the Slurm job script
/// submitted to a one-node Slurm started for the test.
@Suite(.serialized)
struct LaunchScriptTests {
    let root = repositoryRoot()

    @Test func theLocalLauncherAddsOversubscribeOnlyWhenNeeded() throws {
        let launcher = root.appendingPathComponent("Launch/sitelens-mpirun").path
        let two = try runProcess(launcher, ["-n", "2", "mpi-info"], environment: ["SITELENS_BIN": sitelens], timeout: 120)
        #expect(two.status == 0, "\(two.stderr)")
        #expect(two.stdout.contains("+ mpirun -np 2 -x OPENBLAS_NUM_THREADS"), "\(two.stdout)")
        #expect(!two.stdout.contains("--oversubscribe"))
        #expect(two.stdout.contains("SiteLens MPI: 2 ranks"))
        #expect(!two.stdout.contains("\u{0}"), "mpi-info printed a NUL byte")
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let many = try runProcess(launcher, ["-n", "\(cores + 1)", "mpi-info"], environment: ["SITELENS_BIN": sitelens], timeout: 120)
        #expect(many.status == 0, "\(many.stderr)")
        #expect(many.stdout.contains("--oversubscribe") && many.stdout.contains("SiteLens MPI: \(cores + 1) ranks"))
        let bad = try runProcess(launcher, ["-n", "zero", "mpi-info"], environment: ["SITELENS_BIN": sitelens], timeout: 60)
        #expect(bad.status != 0 && bad.stderr.contains("-n wants a positive whole number"))
    }

    @Test func theSlurmScriptParses() throws {
        let syntax = try runProcess("bash", ["-n", root.appendingPathComponent("Launch/slurm.sbatch").path])
        #expect(syntax.status == 0, "\(syntax.stderr)")
    }

    @Test(.enabled(if: Available.slurm, "slurm-wlm and munge are not installed (Launch/test installs them as root)"))
    func theSlurmScriptRunsOnARealOneNodeSlurm() throws {
        let work = try temporaryFolder("sitelens-slurm")
        let run = try runProcess(root.appendingPathComponent("Tests/Slurm/run-slurm-job.sh").path, [sitelens, work.path], timeout: 600)
        #expect(run.status != 77, "Slurm could not start: \(run.stdout.split(separator: "\n").first { $0.hasPrefix("cannot-run:") } ?? "unknown reason")")
        #expect(run.status == 0, "slurm job failed:\n\(run.stdout)\n\(run.stderr)")
        let fields = keyValueLines(run.stdout, requiring: "job-state").first ?? [:]
        #expect(fields["job-state"] == "COMPLETED")
        guard let runDirectory = run.stdout.split(separator: "\n").first(where: { $0.hasPrefix("run-dir=") })?.dropFirst("run-dir=".count) else {
            Issue.record("no run-dir line:\n\(run.stdout)")
            return
        }
        for name in ["decomposition.csv", "decomposition.json", "site-influence.svg", "element-site.svg", "parity.svg",
                     "learning-curve.svg", "metrics.jsonl", "model/member-0.safetensors", "model/member-1.safetensors"] {
            #expect(FileManager.default.fileExists(atPath: "\(runDirectory)/\(name)"), "the Slurm job wrote no \(name)")
        }
        #expect(run.stdout.contains("2 members on 2 ranks"), "\(run.stdout)")
        let table = try String(contentsOfFile: "\(runDirectory)/decomposition.csv", encoding: .utf8)
        #expect(table.split(separator: "\n").count == 1 + 10 * 5)
    }

    /// Debian has no PBS/Torque server to submit to, so the job script runs as PBS would start
    /// it on the first node: with PBS's variables set and a node file of two slots.
    @Test func thePBSScriptRunsWithPBSsEnvironment() throws {
        let work = try temporaryFolder("sitelens-pbs")
        let nodes = work.appendingPathComponent("nodes")
        try "localhost\nlocalhost\n".write(to: nodes, atomically: true, encoding: .utf8)
        let run = try runProcess("bash", [root.appendingPathComponent("Launch/pbs.sh").path], environment: [
            "PBS_O_WORKDIR": work.path, "PBS_JOBID": "42.pbs-server", "PBS_NODEFILE": nodes.path,
            "SITELENS_BIN": sitelens, "SITELENS_RUNS": work.appendingPathComponent("runs").path,
            "SITELENS_TRAIN_ARGS": "--ensemble 2 --epochs 20 --learning-rate 0.01 --print-every 10",
        ], timeout: 300)
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("job 42.pbs-server, 2 ranks"), "\(run.stdout)")
        let runDirectory = work.appendingPathComponent("runs/pbs-42")
        for name in ["decomposition.csv", "site-influence.svg", "model/member-1.safetensors", "metrics.jsonl"] {
            #expect(FileManager.default.fileExists(atPath: runDirectory.appendingPathComponent(name).path), "no \(name)")
        }
    }

    /// A job that PBS (or Slurm) requeues keeps its job ID, so its run folder: the script
    /// checkpoints by default and the second start continues the first's run (here halted after
    /// epoch 10, its first checkpoint, as a killed job would be), then a third start finds it complete.
    @Test func aRequeuedJobContinuesItsOwnRun() throws {
        let work = try temporaryFolder("sitelens-requeue")
        let nodes = work.appendingPathComponent("nodes")
        try "localhost\nlocalhost\n".write(to: nodes, atomically: true, encoding: .utf8)
        let environment = { (arguments: String) in [
            "PBS_O_WORKDIR": work.path, "PBS_JOBID": "7.pbs-server", "PBS_NODEFILE": nodes.path, "SITELENS_ROOT": root.path,
            "SITELENS_BIN": sitelens, "SITELENS_RUNS": work.appendingPathComponent("runs").path,
            "SITELENS_TRAIN_ARGS": "--epochs 14 --print-every 100" + arguments] }
        let script = root.appendingPathComponent("Launch/pbs.sh").path
        let first = try runProcess("bash", [script], environment: environment(" --halt-after-epoch 10"), timeout: 300)
        #expect(first.status == 0, "\(first.stdout)\n\(first.stderr)")
        let run = work.appendingPathComponent("runs/pbs-7")
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoints/member-0.ckpt").path), "checkpoints by default")
        let second = try runProcess("bash", [script], environment: environment(""), timeout: 300)
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        let record = try String(contentsOf: run.appendingPathComponent("run.json"), encoding: .utf8)
        #expect(record.contains("\"complete\" : true"), "\(record.prefix(300))")
        let epochs = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").count
        #expect(epochs == 14, "every epoch once across the two starts: \(epochs)")
        let third = try runProcess("bash", [script], environment: environment(""), timeout: 300)
        #expect(third.status == 0 && third.stdout.contains("is complete; nothing to do"), "\(third.stdout)\n\(third.stderr)")
    }
}
