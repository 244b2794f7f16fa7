@testable import Basics
import Foundation
@testable import Networks
import Testing
import TestSupport
@testable import Training

/// A run record as `TrainingRun` makes one, for a small `sites` model.
func sampleRunRecord(seed: UInt64 = 1, epochs: Int = 6, options: [String: String] = ["--target": "Eads", "--hidden": "6"]) -> RunRecord {
    var plan = TrainingPlan()
    plan.seed = seed
    plan.epochs = epochs
    plan.recordedOptions = options
    let architecture = Architecture(kind: .sites, itemHeight: 1, itemWidth: 1, itemChannels: 3,
                                    layers: [.dense(units: 1, activation: .identity, bias: true)])
    return RunRecord(plan: plan, architecture: architecture, encoding: .image(.seedExample), dataFile: "a.csv", dataHash: "1", structureCount: 9)
}

/// A small Adam checkpoint of member 0 of `run` at `epoch`; with `bestEpoch`, the fit
/// progress of a best epoch and its weights.
func sampleCheckpoint(run: RunRecord, epoch: Int = 2, step: Int = 4, bestEpoch: Int? = nil) -> Checkpoint {
    var optimizer = Optimizer(kind: .adam, learningRate: 0.01, parameterCount: 4)
    var parameters: [Float] = [1, -2, 0.5, 3e-3]
    optimizer.update(&parameters, gradients: [0.5, -1, 2, 0])
    optimizer.step = step
    var fit = FitProgress()
    if let bestEpoch { (fit.bestEpoch, fit.bestValidationMSE, fit.epochsWithoutImprovement) = (bestEpoch, 0.25, epoch - bestEpoch) }
    return Checkpoint(header: .init(member: 0, epoch: epoch, step: step, memberSeed: run.splitPlan.memberSeed(0), groupSize: 1,
                                    parameterCount: 4, optimizer: .adam, learningRate: 0.01, run: run, fit: fit),
                      parameters: parameters, optimizer: optimizer, bestParameters: bestEpoch.map { _ in [0.5, -1, 0.25, 2e-3] })
}

/// Checkpoints prove what they are (issue 24, item 2): a checksum over all of the file, a
/// format version, the run's identity, and header claims checked against the run.
struct CheckpointIntegrityTests {
    @Test func everyFlippedBitAnywhereIsRefused() throws {
        let url = try temporaryFolder("sitelens-flip").appendingPathComponent("member-0.ckpt")
        // With fit progress and best weights, so every part of the format is covered.
        let checkpoint = sampleCheckpoint(run: sampleRunRecord(), bestEpoch: 1)
        try checkpoint.write(to: url)
        let intact = try Data(contentsOf: url)
        #expect(try Checkpoint.read(from: url) == checkpoint)
        var accepted: [String] = []
        for position in intact.indices {
            for bit in 0..<8 {
                var damaged = intact
                damaged[position] ^= UInt8(1 << bit)
                try damaged.write(to: url)
                if (try? Checkpoint.read(from: url)) != nil { accepted.append("byte \(position) bit \(bit)") }
            }
        }
        #expect(intact.count > 500, "the file holds a header with the run record")
        #expect(accepted.isEmpty, "\(accepted.count) of \(intact.count * 8) flips accepted, e.g. \(accepted.prefix(5))")
        // A flip in the payload names the checksum; an old format names the version.
        var damaged = intact
        damaged[intact.count - 10] ^= 1
        try damaged.write(to: url)
        #expect { try Checkpoint.read(from: url) } throws: { "\($0)".contains("'checksum'") && "\($0)".contains(url.path) }
        try (Data("SLCKPT01".utf8) + intact.dropFirst(8)).write(to: url)
        #expect { try Checkpoint.read(from: url) } throws: { "\($0)".contains("'version'") && "\($0)".contains("format '01'") }
    }

    @Test func aCheckpointOfAnotherRunIsRefusedNamingTheField() throws {
        let run = sampleRunRecord()
        let verify = { (checkpoint: Checkpoint, against: RunRecord) in
            try checkpoint.verify(file: "c.ckpt", member: 0, run: against, epochs: 6, parameterCount: 4, batchesPerEpoch: 2)
        }
        try verify(sampleCheckpoint(run: run), run)
        let cases: [(RunRecord, String)] = [
            (sampleRunRecord(seed: 5), "--seed: this run 5, the checkpointed run 1"),
            (sampleRunRecord(options: ["--target": "E2", "--hidden": "6"]), "--target: this run E2, the checkpointed run Eads"),
            (sampleRunRecord(options: ["--target": "Eads", "--hidden": "8"]), "--hidden: this run 8"),
        ]
        for (other, named) in cases {
            #expect { try verify(sampleCheckpoint(run: run), other) } throws: { "\($0)".contains("another run") && "\($0)".contains(named) }
        }
        var reproducible = run
        reproducible.reproducible = true
        #expect { try verify(sampleCheckpoint(run: run), reproducible) } throws: { "\($0)".contains("--reproducible") }
        // The learning rate and the epochs may change.
        var changed = run
        changed.learningRate = 0.1
        changed.epochs = 60
        try verify(sampleCheckpoint(run: run), changed)
    }

    @Test(arguments: [(-2, "header.epoch"), (0, "header.epoch"), (999, "header.epoch"), (7, "header.epoch")])
    func anEpochTheRunCannotHaveReachedIsRefused(epoch: Int, field: String) throws {
        let run = sampleRunRecord(epochs: 6)
        let checkpoint = sampleCheckpoint(run: run, epoch: epoch, step: 0)
        #expect { try checkpoint.verify(file: "c.ckpt", member: 0, run: run, epochs: 6, parameterCount: 4, batchesPerEpoch: 2) }
            throws: { "\($0)".contains(field) && "\($0)".contains("\(epoch)") }
    }

    @Test func impossibleStepsAndSeedsAreRefused() throws {
        let run = sampleRunRecord()
        for (step, ok) in [(4, true), (5, false), (-1, false), (Int.max, false)] {
            let checkpoint = sampleCheckpoint(run: run, epoch: 2, step: step)
            let result = Result { try checkpoint.verify(file: "c.ckpt", member: 0, run: run, epochs: 6, parameterCount: 4, batchesPerEpoch: 2) }
            #expect(((try? result.get()) != nil) == ok, "step \(step)")
        }
        var wrongSeed = sampleCheckpoint(run: run)
        wrongSeed.header.memberSeed &+= 1
        #expect { try wrongSeed.verify(file: "c.ckpt", member: 0, run: run, epochs: 6, parameterCount: 4, batchesPerEpoch: 2) }
            throws: { "\($0)".contains("memberSeed") }
        #expect { try sampleCheckpoint(run: run).verify(file: "c.ckpt", member: 1, run: run, epochs: 6, parameterCount: 4, batchesPerEpoch: 2) }
            throws: { "\($0)".contains("header.member") }
    }

    @Test func aNaNInTheWeightsOrMomentsIsRefusedEvenWithARightChecksum() throws {
        let url = try temporaryFolder("sitelens-nan").appendingPathComponent("member-0.ckpt")
        for field in ["parameters", "parameters ", "adam.m", "adam.v"] {
            var checkpoint = sampleCheckpoint(run: sampleRunRecord())
            switch field {
            case "parameters": checkpoint.parameters[1] = .nan
            case "parameters ": checkpoint.parameters[0] = 1e7
            case "adam.m": checkpoint.optimizer.m[2] = .infinity
            default: checkpoint.optimizer.v[0] = -1
            }
            try checkpoint.write(to: url)
            #expect { try Checkpoint.read(from: url) } throws: { "\($0)".contains("'\(field.trimmingCharacters(in: .whitespaces))'") }
        }
    }

    @Test func mismatchesNameEachOptionAndAllowTheLearningRate() {
        let earlier = sampleRunRecord()
        var now = earlier
        now.learningRate = 0.5
        now.epochs = 100
        #expect(now.mismatches(resuming: earlier).isEmpty)
        now.reproducible = true
        now.options["--target"] = "E2"
        now.options["--energy-key"] = "free_energy"
        let found = now.mismatches(resuming: earlier)
        #expect(found.count == 3, "\(found)")
        #expect(found.contains { $0.hasPrefix("--reproducible") } && found.contains { $0.hasPrefix("--target") }
                && found.contains { $0.hasPrefix("--energy-key: this run free_energy, the checkpointed run (not used)") }, "\(found)")
    }
}
