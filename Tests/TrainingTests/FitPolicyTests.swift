import Foundation
@testable import Networks
import Testing
import TestSupport
@testable import Training

/// The fit policy's parts (issue 20, item 4): the learning-rate formulas, the bookkeeping of
/// best epoch, patience and plateau, and the checkpoint that carries them.
struct FitPolicyTests {
    func rates(_ schedule: LearningRateSchedule, base: Double, epochs: Int, reductions: Int = 0) -> [Double] {
        (1...epochs).map { schedule.learningRate(epoch: $0, base: base, reductions: reductions) }
    }

    func expectClose(_ got: [Double], _ expected: [Double], _ label: String) {
        #expect(got.count == expected.count && zip(got, expected).allSatisfy { abs($0 - $1) <= 1e-12 * max(abs($1), 1e-300) },
                "\(label): \(got) against \(expected)")
    }

    @Test func eachScheduleGivesItsFormulasRates() {
        expectClose(rates(.constant, base: 0.3, epochs: 3), [0.3, 0.3, 0.3], "constant")
        // Halved every 3 epochs, floored at 0.01: 0.1, 0.05, 0.025, 0.0125, then 0.01 (not 0.00625).
        expectClose(rates(.step(everyEpochs: 3, factor: 0.5, minimum: 0.01), base: 0.1, epochs: 13),
                    [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125, 0.0125, 0.01], "step")
        // Over 4 epochs from 0.1 to 0.01: cos(0), cos(π/4), cos(π/2), cos(3π/4).
        expectClose(rates(.cosine(epochs: 4, minimum: 0.01), base: 0.1, epochs: 4),
                    [0.1, 0.01 + 0.09 * (1 + 0.5.squareRoot()) / 2, 0.055, 0.01 + 0.09 * (1 - 0.5.squareRoot()) / 2], "cosine")
        let plateau = LearningRateSchedule.plateau(patience: 2, factor: 0.1, minimum: 1e-4)
        expectClose((0...4).map { plateau.learningRate(epoch: 9, base: 0.5, reductions: $0) }, [0.5, 0.05, 0.005, 5e-4, 1e-4], "plateau")
    }

    @Test func bestEpochPatienceAndPlateauFollowTheValidationErrors() {
        var policy = FitPolicy()
        policy.patience = 3
        policy.schedule = .plateau(patience: 2, factor: 0.5, minimum: 0)
        var progress = FitProgress()
        let errors = [5, 4, 4.5, 4.2, 3, 3.5, 3.6, 3.7]
        var improved: [Int] = [], reducedAt: [Int] = [], stoppedAt: Int?
        for (k, error) in errors.enumerated() {
            let epoch = k + 1
            let outcome = progress.record(epoch: epoch, validationMSE: error, policy: policy)
            if outcome.improved { improved.append(epoch) }
            if outcome.reducedRate { reducedAt.append(epoch) }
            if progress.stopped && stoppedAt == nil { stoppedAt = epoch }
        }
        #expect(improved == [1, 2, 5])
        #expect(reducedAt == [4, 7], "two epochs without improvement each time")
        #expect(stoppedAt == 8 && progress.bestEpoch == 5 && progress.bestValidationMSE == 3 && progress.reductions == 2)
        // An equal error is no improvement; without a validation error nothing moves.
        var flat = FitProgress()
        policy.patience = 2
        for epoch in 1...3 { _ = flat.record(epoch: epoch, validationMSE: 1, policy: policy) }
        #expect(flat.bestEpoch == 1 && flat.stopped)
        var none = FitProgress()
        #expect(none.record(epoch: 1, validationMSE: nil, policy: policy) == (false, false))
        #expect(none == FitProgress())
    }

    @Test func aCheckpointCarriesTheProgressAndTheBestWeights() throws {
        let url = try temporaryFolder("sitelens-fit").appendingPathComponent("member-0.ckpt")
        let run = sampleRunRecord()
        #expect(run.options["--keep"] == "best" && run.options["--patience"] == "0" && run.options["--lr-schedule"] == "constant")
        let checkpoint = sampleCheckpoint(run: run, bestEpoch: 1)
        try checkpoint.write(to: url)
        let read = try Checkpoint.read(from: url)
        #expect(read == checkpoint && read.bestParameters == [0.5, -1, 0.25, 2e-3] && read.header.fit.bestEpoch == 1)
        let verify = { (c: Checkpoint, against: RunRecord) in
            try c.verify(file: "c.ckpt", member: 0, run: against, epochs: 6, parameterCount: 4, batchesPerEpoch: 2)
        }
        try verify(checkpoint, run)
        // Progress no run reaches, and best weights where the run's --keep says otherwise, are refused by field.
        var ahead = checkpoint
        ahead.header.fit.bestEpoch = 3
        #expect { try verify(ahead, run) } throws: { "\($0)".contains("header.fit.bestEpoch") }
        var waited = checkpoint
        waited.header.fit.epochsWithoutImprovement = 9
        #expect { try verify(waited, run) } throws: { "\($0)".contains("header.fit.epochsWithoutImprovement") }
        let lost = Checkpoint(header: checkpoint.header, parameters: checkpoint.parameters, optimizer: checkpoint.optimizer)
        #expect { try verify(lost, run) } throws: { "\($0)".contains("header.keepsBest") }
        var last = run
        last.options["--keep"] = "last"
        #expect { try verify(checkpoint, last) } throws: { "\($0)".contains("--keep: this run last, the checkpointed run best") }
    }
}
