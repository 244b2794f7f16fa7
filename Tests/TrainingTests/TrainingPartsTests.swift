@testable import Basics
import Foundation
import Testing
import TestSupport
@testable import Networks
@testable import Training

/// The trainer's parts in one process (no MPI is initialised here).
struct TrainingPartsTests {
    /// Balanced when the rank count divides the batch size (the rule's promise); other rank
    /// counts still see every position once per epoch.
    @Test(arguments: [1, 2, 4, 8, 3, 7])
    func everyBatchIsSharedEvenlyWhenTheRanksDivideTheBatch(ranks: Int) {
        var plan = TrainingPlan()
        plan.batchSize = 8
        plan.seed = 11
        let count = 53
        for epoch in 1...3 {
            let batches = plan.epochBatches(count: count, member: 0, epoch: epoch)
            #expect(batches.flatMap { $0 }.sorted() == Array(0..<count), "every position once per epoch")
            for batch in batches where plan.batchSize % ranks == 0 {
                let shares = (0..<ranks).map { rank in batch.filter { Shard(rank: rank, size: ranks).owns(position: $0) }.count }
                #expect(shares.max()! - shares.min()! <= 1, "epoch \(epoch), \(ranks) ranks: shares \(shares)")
            }
        }
    }

    @Test func theShardRulePartitionsAList() {
        let list = Array(100..<117)
        for size in 1...5 {
            let parts = (0..<size).map { Shard(rank: $0, size: size).mine(list) }
            #expect(parts.flatMap { $0 }.sorted() == list)
            #expect(parts.map(\.count).max()! - parts.map(\.count).min()! <= 1)
        }
    }

    @Test func splitsAreDisjointAndFollowTheSeed() {
        var plan = TrainingPlan()
        plan.validationFraction = 0.2
        plan.seed = 5
        plan.testFraction = 0.1
        plan.sharedValidation = false
        let test = plan.testSet(count: 50)
        #expect(test.count == 5)
        let (train, validation) = plan.split(count: 50, member: 1)
        #expect(Set(train).isDisjoint(with: validation) && Set(train + validation).isDisjoint(with: test))
        #expect((train + validation + test).sorted() == Array(0..<50))
        #expect(validation.count == 9)
        #expect(plan.split(count: 50, member: 2).validation != validation && Set(plan.split(count: 50, member: 2).train).isDisjoint(with: test),
                "members draw their own validation sets, never from the test set")
        #expect(plan.split(count: 50, member: 1).train == train, "same seed, same split")
        #expect(plan.split(count: 50, member: 2).train != train, "another member, another split")
        plan.seed = 6
        #expect(plan.split(count: 50, member: 1).train != train, "another seed, another split")
    }

    @Test(arguments: [OptimizerKind.adam, .sgd])
    func aCheckpointReadsBackAsWritten(kind: OptimizerKind) throws {
        var optimizer = Optimizer(kind: kind, learningRate: 0.01, parameterCount: 5)
        var parameters: [Float] = [1, -2, .ulpOfOne, -0.0, 3e-38]
        optimizer.update(&parameters, gradients: [0.5, -1, 2, 0, 1])
        let checkpoint = Checkpoint(header: .init(member: 2, epoch: 7, step: 1, memberSeed: 99, groupSize: 3, parameterCount: 5,
                                                  optimizer: kind, learningRate: 0.01, run: sampleRunRecord()),
                                    parameters: parameters, optimizer: optimizer)
        let url = try temporaryFolder("sitelens-ckpt").appendingPathComponent("member-2.ckpt")
        try checkpoint.write(to: url)
        #expect(try Checkpoint.read(from: url) == checkpoint)
        // A truncated file is refused with its name, not read short.
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 3).write(to: url)
        #expect { try Checkpoint.read(from: url) } throws: { "\($0)".contains(url.path) }
    }

    @Test func theGradientAccumulatorSumsInDouble() {
        let accumulator = GradientAccumulator(parameterCount: 2)
        accumulator.zero()
        // 1 + 1e-8 is 1 in Float; the Double sum keeps the small part of each sample.
        for value: Float in [1, 1e-8, 1e-8, 1e-8] { accumulator.add { $0[0] += value; $0[1] += 2 * value } }
        #expect(accumulator.sum[0] == 1 + 3 * Double(Float(1e-8)))
        #expect(accumulator.sum[1] == 2 + 6 * Double(Float(1e-8)))
        accumulator.zero()
        #expect(accumulator.sum == [0, 0])
    }

    /// A step's first chunk writes the sum (no clearing), later chunks add to it, and a step
    /// with no chunk (a rank without samples) reduces zeros.
    @Test func eachStepsSumStartsFromZero() throws {
        let accumulator = GradientAccumulator(parameterCount: 3, layerRanges: [0..<1, 1..<3], reduction: .single, precision: .double, group: nil)
        func chunk(_ value: Float) throws {
            try accumulator.add(last: false) { gradient, afterLayer in
                (gradient[1], gradient[2]) = (value, 2 * value)
                try afterLayer(1)
                gradient[0] = 3 * value
                try afterLayer(0)
            }
        }
        accumulator.zero()
        try chunk(1)
        try chunk(2)
        #expect(accumulator.sum == [9, 3, 6])
        accumulator.zero()
        try chunk(5)
        #expect(accumulator.sum == [15, 5, 10])
        accumulator.zero()
        try accumulator.reduce()
        #expect(accumulator.reducedGradient() == [0, 0, 0])
    }

    @Test func aResumedRunNamesEveryMismatch() throws {
        var plan = TrainingPlan()
        plan.seed = 1
        let architecture = Architecture(kind: .sites, itemHeight: 1, itemWidth: 1, itemChannels: 3,
                                        layers: [.dense(units: 1, activation: .identity, bias: true)])
        let encoding = InputEncoding.image(.seedExample)
        let earlier = RunRecord(plan: plan, architecture: architecture, encoding: encoding, dataFile: "a.csv", dataHash: "1", structureCount: 9)
        #expect(earlier.mismatches(resuming: earlier).isEmpty)
        plan.seed = 2
        plan.optimizer = .sgd
        plan.epochs = 500  // more epochs is allowed
        let now = RunRecord(plan: plan, architecture: architecture, encoding: encoding, dataFile: "a.csv", dataHash: "2", structureCount: 9)
        let found = now.mismatches(resuming: earlier)
        #expect(found.count == 3, "\(found)")
        #expect(found.contains { $0.hasPrefix("--seed") } && found.contains { $0.hasPrefix("--optimizer") } && found.contains { $0.hasPrefix("data") })
    }
}

/// The run folder's rules, in one process.
struct RunFolderTests {
    @Test func aFolderHoldingARunIsRefusedUnlessResumed() throws {
        let folder = RunFolder(try temporaryFolder("sitelens-runfolder").appendingPathComponent("run"))
        let first = try folder.claim(.fresh)
        try Data("x".utf8).write(to: folder.file(.metrics))
        // A second run while the first holds the lock fails at once, naming the holder.
        #expect { _ = try folder.claim(.resume) } throws: { "\($0)".contains("in use by another run") && "\($0)".contains("pid \(getpid())") }
        #expect { _ = try folder.claimForReplacement(inputs: [], isRun: { _ in }) } throws: { "\($0)".contains("in use by another run") }
        #expect(FileManager.default.fileExists(atPath: folder.lockFile.path), "a refused claim leaves the holder's lock")
        first.release()
        #expect { _ = try folder.claim(.fresh) } throws: { "\($0)".contains("holds an earlier run") && "\($0)".contains("--overwrite") }
        try folder.claim(.resume).release()
        #expect(FileManager.default.fileExists(atPath: folder.file(.metrics).path), "resume keeps the run's files")
    }

    /// Issue 20: a start that failed before training anything (its run.json, empty model/ and
    /// checkpoints/) does not block the corrected command; one epoch's log does.
    @Test func aFailedStartIsTakenOverButAStartedRunIsNot() throws {
        let folder = RunFolder(try temporaryFolder("sitelens-failedstart").appendingPathComponent("run"))
        try folder.claim(.fresh).release()
        try Data("{}".utf8).write(to: folder.file(.record))
        try folder.claim(.fresh).release()
        #expect(!FileManager.default.fileExists(atPath: folder.file(.record).path), "the failed start's record is gone")
        try Data("{}".utf8).write(to: folder.file(.record))
        try Data("x".utf8).write(to: folder.memberLog(member: 0))
        #expect { _ = try folder.claim(.fresh) } throws: { "\($0)".contains("holds an earlier run") }
    }

    @Test func aLockLeftByAFinishedProcessIsTakenOver() throws {
        let folder = RunFolder(try temporaryFolder("sitelens-stale").appendingPathComponent("run"))
        try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: false)
        // No process has pid 2^22 + 1 here (above Linux's default pid_max of 2^22).
        try "\(hostName()) 4194305\n".write(to: folder.url.appendingPathComponent(".sitelens.lock"), atomically: true, encoding: .utf8)
        try folder.claim(.fresh).release()
    }

    /// A lock naming a live process of this host is stale when that process started at another
    /// time (its PID was handed out again, as a new PID namespace per job does); with the
    /// holder's own start time it is in use.
    @Test func aLockWhosePIDWasReusedIsTakenOver() throws {
        let folder = RunFolder(try temporaryFolder("sitelens-reused").appendingPathComponent("run"))
        try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: false)
        let started = try #require(RunLock.startTime(of: getpid()))
        try "\(hostName()) \(getpid()) \(started)\n".write(to: folder.lockFile, atomically: true, encoding: .utf8)
        #expect { _ = try folder.claim(.fresh) } throws: { "\($0)".contains("in use by another run") }
        try "\(hostName()) \(getpid()) \(started + 1)\n".write(to: folder.lockFile, atomically: true, encoding: .utf8)
        try folder.claim(.fresh).release()
        #expect(!FileManager.default.fileExists(atPath: folder.lockFile.path))
    }

    @Test func missingParentsAreNotCreated() throws {
        let folder = RunFolder(try temporaryFolder("sitelens-parent").appendingPathComponent("no/such/run"))
        #expect { _ = try folder.claim(.fresh) } throws: { "\($0)".contains("does not exist") }
        #expect(!FileManager.default.fileExists(atPath: folder.url.deletingLastPathComponent().path))
    }

    /// A lock whose process was killed but not yet collected by its parent (a zombie) is stale;
    /// a running process's is not.
    @Test func aZombieHoldsNoLockButARunningProcessDoes() throws {
        func spawn(_ arguments: [String]) throws -> pid_t {
            var pid: pid_t = 0
            let argv = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            guard posix_spawn(&pid, arguments[0], nil, nil, argv, environ) == 0 else { throw RunFolderError("cannot start \(arguments[0])") }
            return pid
        }
        let exited = try spawn(["/bin/true"]), running = try spawn(["/bin/sleep", "30"])
        defer { kill(running, SIGKILL); var status: Int32 = 0; waitpid(running, &status, 0); waitpid(exited, &status, 0) }
        let start = Date()
        while !RunLock.processIsGone(exited) && Date().timeIntervalSince(start) < 10 { usleep(10_000) }
        #expect(kill(exited, 0) == 0, "not yet collected: a zombie")
        #expect(RunLock.processIsGone(exited))
        #expect(!RunLock.processIsGone(running))
    }

    /// A file written piece by piece appears whole or not at all: when the writer fails half way,
    /// the earlier file is left as it was and no temporary file remains.
    @Test func aPiecewiseWriteThatFailsLeavesTheOldFile() throws {
        struct Halfway: Error {}
        let folder = try temporaryFolder("sitelens-pieces")
        let target = folder.appendingPathComponent("contributions.xyz")
        try writeAtomically(to: target) { append in for piece in ["a\n", "b\n"] { try append(Data(piece.utf8)) } }
        #expect(try String(contentsOf: target, encoding: .utf8) == "a\nb\n")
        #expect(throws: Halfway.self) {
            try writeAtomically(to: target) { append in
                try append(Data("new\n".utf8))
                throw Halfway()
            }
        }
        #expect(try String(contentsOf: target, encoding: .utf8) == "a\nb\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["contributions.xyz"])
    }

    /// A full disk gives the file and the system's reason, and leaves no temporary file behind.
    @Test(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
    func aFullDiskNamesTheFileAndTheReason() throws {
        let folder = try temporaryFolder("sitelens-full")
        guard try runProcess("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", folder.path]).status == 0 else {
            Issue.record("could not mount a tmpfs at \(folder.path)")
            return
        }
        defer { _ = try? runProcess("umount", [folder.path]) }
        let target = folder.appendingPathComponent("metrics.jsonl")
        #expect { try writeAtomically(Data(count: 1 << 20), to: target) } throws: { error in
            "\(error)".hasPrefix(target.path) && "\(error)".contains("space") && !"\(error)".contains("NSCocoaErrorDomain")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty, "no temporary file is left")
    }
}

/// `--all-reduce` spellings: each reads back as written; out-of-range and unknown ones are refused.
struct GradientReductionSpellingTests {
    @Test func everyModeReadsBackAsWritten() throws {
        for text in ["auto", "single", "han", "buckets:1048576", "buckets:256:nopoll"] {
            #expect(try #require(GradientReduction(text)).description == text)
        }
        #expect(GradientReduction("buckets") == .overlapped)
        #expect(try #require(GradientReduction("auto")).automatic && !GradientReduction.overlapped.automatic)
        #expect(TrainingPlan().gradientReduction == .auto)
        for bad in ["buckets:0", "buckets:2147483648", "auto:1", "han:1", "buckets:x", "Single", ""] { #expect(GradientReduction(bad) == nil, "\(bad)") }
    }
}
