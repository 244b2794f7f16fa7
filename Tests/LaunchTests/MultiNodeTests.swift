import Foundation
import Networks
import Testing
import TestSupport

/// SiteLens across nodes that talk only over TCP: network namespaces made by `Launch/cluster`,
/// each with its own hostname, process IDs and node-local /tmp. Data and run folders live in
/// /var/tmp, shared by every node as a cluster's home is.
@Suite(.serialized, .enabled(if: Available.clusterNodes, "needs root, ip, tc, unshare and flock to make namespace nodes"))
struct MultiNodeTests {
    let cluster = repositoryRoot().appendingPathComponent("Launch/cluster").path

    /// A folder every node sees (not /tmp, which each node has its own of).
    func sharedFolder() throws -> URL {
        let url = URL(fileURLWithPath: "/var/tmp/sitelens-cluster-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `mpirun -np RANKS sitelens ARGUMENTS` on a cluster of `nodes` nodes × `slots` slots.
    func onCluster(nodes: Int = 2, slots: Int = 1, ranks: Int, _ arguments: [String], timeout: Double = 300) throws -> ProcessOutcome {
        try runProcess(cluster, ["--nodes", "\(nodes)", "--slots", "\(slots)", "--", "mpirun", "-np", "\(ranks)",
                                 "-x", "OPENBLAS_NUM_THREADS=1", sitelens] + arguments, timeout: timeout)
    }

    /// A job of `mpirun -np 2 [mpirunOptions] sitelens ARGUMENTS` on 2 nodes, in the background,
    /// its output in `folder/job.log`; returns once `file` exists (or after two minutes).
    func startJob(in folder: URL, mpirunOptions: [String] = [], _ arguments: [String], waitingFor file: URL) throws -> (Process, URL) {
        let log = folder.appendingPathComponent("job.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let job = Process()
        job.executableURL = URL(fileURLWithPath: cluster)
        job.arguments = ["--", "mpirun", "-np", "2"] + mpirunOptions + [sitelens] + arguments
        job.standardOutput = try FileHandle(forWritingTo: log)
        job.standardError = job.standardOutput
        try job.run()
        let start = Date()
        while !FileManager.default.fileExists(atPath: file.path) && Date().timeIntervalSince(start) < 120 && job.isRunning { usleep(100_000) }
        guard FileManager.default.fileExists(atPath: file.path) else {
            if job.isRunning { job.terminate() }
            job.waitUntilExit()
            throw ClusterJobError(description: "\(file.path) did not appear: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        }
        return (job, log)
    }

    func weights(_ run: URL, member: Int = 0) throws -> Data {
        try Data(contentsOf: run.appendingPathComponent("model/member-\(member).safetensors"))
    }

    @Test func mpiInfoCountsTheNodes() throws {
        let info = try onCluster(slots: 2, ranks: 4, ["mpi-info"])
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("4 ranks on 2 hosts"), "\(info.stdout)")
        #expect(info.stdout.contains("host node1: 2 ranks") && info.stdout.contains("host node2: 2 ranks"), "\(info.stdout)")
    }

    /// Two nodes × one rank give the weights of two ranks on one node, bit for bit in the same
    /// all-reduce mode; `auto` sees the nodes (and the gradient's size).
    @Test func twoNodesTrainAsTwoRanksOnOneNode() throws {
        let folder = try sharedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sites.csv")
        #expect(try runProcess(sitelens, ["generate", "--out", data.path, "--structures", "120"]).status == 0)
        let common = [data.path, "--epochs", "3", "--batch-size", "16", "--seed", "4", "--all-reduce", "single"]
        let spread = folder.appendingPathComponent("two-nodes"), local = folder.appendingPathComponent("one-node")
        let across = try onCluster(ranks: 2, ["train"] + common + ["--run-dir", spread.path])
        #expect(across.status == 0, "\(across.stderr.suffix(1500))")
        let here = try mpirun(2, sitelens, ["train"] + common + ["--run-dir", local.path])
        #expect(here.status == 0, "\(here.stderr.suffix(1500))")
        #expect(try weights(spread) == weights(local), "2 nodes × 1 rank and 1 node × 2 ranks differ")
        // The memory budget is per node: a rank alone on its node gets twice what two ranks sharing one get.
        let budget = { (text: String) in text.components(separatedBy: "budget ").dropFirst().first.flatMap { Int($0.prefix { $0.isNumber }) } }
        if let alone = budget(across.stdout), let sharing = budget(here.stdout) {
            #expect(abs(alone - 2 * sharing) <= 2, "budgets \(alone) and \(sharing) MB per rank")
        } else {
            Issue.record("no memory budget printed: \(across.stdout.prefix(600)) / \(here.stdout.prefix(600))")
        }
        let automatic = try onCluster(ranks: 2, ["train", data.path, "--epochs", "1", "--run-dir", folder.appendingPathComponent("auto").path])
        #expect(automatic.status == 0, "\(automatic.stderr.suffix(1500))")
        // auto sees the nodes, and that the sites model's gradient is one bucket (nothing to overlap).
        #expect(automatic.stdout.contains("→ single (ranks span nodes (2 nodes, up to 1 rank each), but the")
                && automatic.stdout.contains("gradient is one bucket"), "\(automatic.stdout.prefix(600))")
    }

    /// Two nodes × two ranks (shared memory within a node, TCP between) agree with one rank
    /// within the tolerance the one-node tests use across rank counts.
    @Test func twoNodesOfTwoRanksAgreeWithOneRank() throws {
        let folder = try sharedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sites.csv")
        #expect(try runProcess(sitelens, ["generate", "--out", data.path, "--structures", "120"]).status == 0)
        let common = [data.path, "--epochs", "3", "--batch-size", "16", "--seed", "8"]
        let four = folder.appendingPathComponent("four"), one = folder.appendingPathComponent("one")
        let across = try onCluster(slots: 2, ranks: 4, ["train"] + common + ["--run-dir", four.path])
        #expect(across.status == 0, "\(across.stderr.suffix(1500))")
        let alone = try runProcess(sitelens, ["train"] + common + ["--run-dir", one.path], environment: ["OPENBLAS_NUM_THREADS": "1"])
        #expect(alone.status == 0, "\(alone.stderr.suffix(1500))")
        let tensors = { (run: URL) in try EnergyModel.load(from: run.appendingPathComponent("model"), name: "member-0").tensors().map(\.values) }
        let difference = largestRelativeDifference(try tensors(four), try tensors(one))
        #expect(difference <= 1e-5, "2 nodes × 2 ranks against 1 rank: \(difference)")
    }

    /// `--all-reduce han` enables Open MPI's coll/han before MPI_Init (its own selection log
    /// says so) and trains, on 2 nodes × 2 ranks, the weights one flat all-reduce trains (Double
    /// sums added in another grouping: within the one-node tests' tolerance).
    @Test func hanIsEnabledAcrossNodesAndTrainsAsOneAllReduce() throws {
        let folder = try sharedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sites.csv")
        #expect(try runProcess(sitelens, ["generate", "--out", data.path, "--structures", "120"]).status == 0)
        let common = ["train", data.path, "--epochs", "2", "--batch-size", "16", "--seed", "8"]
        let han = folder.appendingPathComponent("han"), flat = folder.appendingPathComponent("flat")
        let hierarchical = try runProcess(cluster, ["--nodes", "2", "--slots", "2", "--", "mpirun", "-np", "4", "-x", "OPENBLAS_NUM_THREADS=1",
                                                    "--mca", "coll_base_verbose", "30", sitelens]
                                                   + common + ["--all-reduce", "han", "--run-dir", han.path], timeout: 300)
        #expect(hierarchical.status == 0, "\(hierarchical.stderr.suffix(1500))")
        #expect(hierarchical.stdout.contains("gradient all-reduce han"), "\(hierarchical.stdout.prefix(600))")
        let log = hierarchical.stdout + hierarchical.stderr
        #expect(log.contains("han, priority \(100), Enabled"), "coll/han was not selected: \(log.suffix(1500))")
        let single = try onCluster(slots: 2, ranks: 4, common + ["--all-reduce", "single", "--run-dir", flat.path])
        #expect(single.status == 0, "\(single.stderr.suffix(1500))")
        let tensors = { (run: URL) in try EnergyModel.load(from: run.appendingPathComponent("model"), name: "member-0").tensors().map(\.values) }
        let difference = largestRelativeDifference(try tensors(han), try tensors(flat))
        #expect(difference <= 1e-5, "han against one flat all-reduce: \(difference)")
    }

    /// An ensemble whose members train on different nodes is gathered to rank 0 and written
    /// once, whole, in the shared run folder (each member's checkpoint by its own node), with the
    /// members a one-node run trains.
    @Test func membersOnDifferentNodesAreGatheredAndWrittenOnce() throws {
        let folder = try sharedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sites.csv")
        #expect(try runProcess(sitelens, ["generate", "--out", data.path, "--structures", "120"]).status == 0)
        let common = [data.path, "--epochs", "3", "--ensemble", "2", "--checkpoint-every", "1", "--seed", "9"]
        let spread = folder.appendingPathComponent("spread"), local = folder.appendingPathComponent("local")
        let across = try onCluster(ranks: 2, ["train"] + common + ["--run-dir", spread.path])
        #expect(across.status == 0, "\(across.stderr.suffix(1500))")
        #expect(across.stdout.components(separatedBy: "outputs in").count == 2, "outputs announced once: \(across.stdout)")
        for name in ["checkpoints/member-0.ckpt", "checkpoints/member-1.ckpt", "decomposition.csv", "predictions.csv"] {
            #expect(FileManager.default.fileExists(atPath: spread.appendingPathComponent(name).path), "\(name) missing")
        }
        let record = try String(contentsOf: spread.appendingPathComponent("run.json"), encoding: .utf8)
        #expect(record.contains("\"complete\" : true"))
        #expect(try mpirun(2, sitelens, ["train"] + common + ["--run-dir", local.path]).status == 0)
        for member in 0..<2 { #expect(try weights(spread, member: member) == weights(local, member: member), "member \(member)") }
    }

    /// A run folder locked by a job on node1 is refused to a job on node2, though the PID in
    /// the lock means nothing there (each node counts its own).
    @Test func aLockHeldOnAnotherNodeIsRefused() throws {
        let folder = try sharedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sites.csv")
        #expect(try runProcess(sitelens, ["generate", "--out", data.path, "--structures", "60"]).status == 0)
        let run = folder.appendingPathComponent("run")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: false)
        // No process has this PID on node2 or here (above Linux's pid_max): a lock judged by its
        // PID alone would be taken over as stale; the host it names is another node's.
        try "node1 4194305\n".write(to: run.appendingPathComponent(".sitelens.lock"), atomically: true, encoding: .utf8)
        let refused = try runProcess(cluster, ["--", "mpirun", "-np", "1", "--host", "node2", sitelens, "train", data.path,
                                               "--epochs", "1", "--run-dir", run.path], timeout: 120)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("in use by another run") && refused.stderr.contains("host node1"), "\(refused.stderr.suffix(800))")
        #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(".sitelens.lock").path))
    }

    /// A rank killed on node2 ends the whole job within seconds, mpirun naming the node; the
    /// checkpoints written so far (by each member's node) resume it.
    @Test func aRankKilledOnTheSecondNodeEndsTheJobAndResumes() throws {
        let folder = try sharedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sites.csv")
        #expect(try runProcess(sitelens, ["generate", "--out", data.path, "--structures", "120"]).status == 0)
        let run = folder.appendingPathComponent("run")
        let common = [data.path, "--ensemble", "2", "--checkpoint-every", "1", "--seed", "3", "--print-every", "100000"]
        let (job, log) = try startJob(in: folder, ["train"] + common + ["--epochs", "100000", "--run-dir", run.path],
                                      waitingFor: run.appendingPathComponent("checkpoints/member-1.ckpt"))
        defer { if job.isRunning { job.terminate() } }
        // The rank in node2's namespace, seen from this machine.
        let find = try runProcess("bash", ["-c", "for p in $(pgrep -x sitelens); do [ \"$(ip netns identify $p)\" = node2 ] && echo $p; done"])
        let victims = find.stdout.split(separator: "\n").compactMap { pid_t($0) }
        #expect(victims.count == 1, "one rank on node2: \(find.stdout) \(find.stderr)")
        let killed = Date()
        victims.forEach { kill($0, SIGKILL) }
        while job.isRunning && Date().timeIntervalSince(killed) < 30 { usleep(50_000) }
        let seconds = Date().timeIntervalSince(killed)
        #expect(!job.isRunning && seconds < 5, "the job outlived its killed rank by \(seconds) s")
        if job.isRunning { job.terminate() }  // never wait on a hung job
        job.waitUntilExit()
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(job.terminationStatus != 0)
        #expect(output.contains("node2"), "mpirun names the node: \(output.suffix(1500))")
        // Past every epoch a member logged (its checkpoint is at most that far).
        let logged = try (0..<2).map { member in
            try String(contentsOf: run.appendingPathComponent("checkpoints/member-\(member).metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n").count
        }
        let resumed = try onCluster(ranks: 2, ["train"] + common + ["--epochs", "\(logged.max()! + 2)", "--resume", run.path])
        #expect(resumed.status == 0, "\(resumed.stderr.suffix(1500))")
        #expect(try String(contentsOf: run.appendingPathComponent("run.json"), encoding: .utf8).contains("\"complete\" : true"))
    }

    /// A node cut off without a word (its link down: no TCP reset ever comes) ends the job
    /// within 60 s instead of hanging in the all-reduce: mpirun, its daemons probed by TCP
    /// keepalive, names the node; the last checkpoint resumes. The stall watchdog is off here:
    /// its abort, when it comes before the probes have found the node lost, leaves mpirun
    /// waiting on the cut node (seen once under CI load); StallTests shows the watchdog naming
    /// the step.
    @Test func aNodeCutOffEndsTheJobNamingTheNode() throws {
        let folder = try sharedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sites.csv")
        #expect(try runProcess(sitelens, ["generate", "--out", data.path, "--structures", "120"]).status == 0)
        let run = folder.appendingPathComponent("run")
        let common = [data.path, "--checkpoint-every", "1", "--seed", "5", "--print-every", "100000"]
        // Shorter probes than the Launch scripts' minute, so the test stays short.
        let probes = ["--mca", "oob_tcp_keepalive_time", "3", "--mca", "oob_tcp_keepalive_intvl", "1", "--mca", "oob_tcp_keepalive_probes", "3"]
        let (job, log) = try startJob(in: folder, mpirunOptions: probes,
                                      ["train"] + common + ["--epochs", "100000", "--stall-timeout", "0", "--run-dir", run.path],
                                      waitingFor: run.appendingPathComponent("checkpoints/member-0.ckpt"))
        defer { if job.isRunning { job.terminate() } }
        #expect(job.isRunning, "the job ended before the cut: \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
        let cut = try runProcess("ip", ["link", "set", "slv2", "down"])
        #expect(cut.status == 0, "\(cut.stderr)")
        let started = Date()
        while job.isRunning && Date().timeIntervalSince(started) < 90 { usleep(100_000) }
        let seconds = Date().timeIntervalSince(started)
        #expect(!job.isRunning && seconds < 60, "the job outlived the cut by \(seconds) s")
        if job.isRunning { job.terminate() }  // never wait on a hung job
        job.waitUntilExit()
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(job.terminationStatus != 0)
        #expect(output.contains("node2"), "the node is named: \(output.suffix(2000))")
        let logged = try String(contentsOf: run.appendingPathComponent("checkpoints/member-0.metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").count
        let resumed = try onCluster(ranks: 2, ["train"] + common + ["--epochs", "\(logged + 2)", "--resume", run.path])
        #expect(resumed.status == 0, "\(resumed.stderr.suffix(1500))")
    }

    /// `Launch/slurm.sbatch` on a Slurm of two nodes: one controller on the head node, a slurmd
    /// in each node's namespace (own host name, spool and /tmp), `srun --mpi=pmix` starting one
    /// rank on each; the members train on different nodes and rank 0 writes the run.
    @Test(.enabled(if: Available.slurm, "slurm-wlm and munge are not installed (Launch/test installs them as root)"))
    func theSlurmScriptRunsOnTwoNodes() throws {
        let folder = try sharedFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let job = try runProcess(cluster, ["--nodes", "2", "--", repositoryRoot().appendingPathComponent("Tests/Slurm/run-slurm-job.sh").path,
                                           sitelens, folder.path], timeout: 600)
        #expect(job.status == 0, "\(job.stdout.suffix(3000))\n\(job.stderr.suffix(1000))")
        #expect(job.stdout.contains("2 tasks on node[1-2]"), "the job spans both nodes: \(job.stdout.prefix(1500))")
        #expect(job.stdout.contains("2 members on 2 ranks in 2 groups") && job.stdout.contains("span nodes"), "\(job.stdout.prefix(1500))")
        let runs = folder.appendingPathComponent("runs")
        let run = (try FileManager.default.contentsOfDirectory(atPath: runs.path)).first { $0.hasPrefix("slurm-") && !$0.hasSuffix("-data") }
        let record = try String(contentsOf: runs.appendingPathComponent(run ?? "none").appendingPathComponent("run.json"), encoding: .utf8)
        #expect(record.contains("\"complete\" : true"))
    }
}


/// A background cluster job that did not get as far as the test needs.
struct ClusterJobError: Error, CustomStringConvertible {
    let description: String
}
