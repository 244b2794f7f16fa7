import Foundation
import Networks

/// When training has diverged: a gradient or loss that is not finite, a training loss past
/// `lossFactor` times the loss of predicting zero, or a weight past what model files accept
/// (`ModelDescription.largestWeight`). Every check reads a value the group's ranks share (the
/// reduced gradient, the reduced loss, the parameters they hold alike), so all ranks of a group
/// stop at the same step and none waits in a collective; the error ends the job on every rank.
enum Divergence {
    /// A training loss this many times the loss of predicting zero (RMSE 10⁵ target spreads)
    /// is no longer training: a learning rate far too large, or data no model fits.
    static let lossFactor = 1e10
}

extension MemberTrainer {
    /// The end of a message about a diverged member: what happens to the run.
    private var divergenceOutcome: String {
        let kept = lastCheckpointEpoch.map { "the last good checkpoint (epoch \($0)) is kept" }
            ?? (plan.checkpointEvery > 0 ? "no epoch finished well, so there is no checkpoint" : "no checkpoints are written (--checkpoint-every 0)")
        return "training stops; \(kept). A smaller --learning-rate may help"
    }

    /// The step's reduced gradient is finite.
    func checkGradient(_ gradient: [Float], epoch: Int) throws {
        guard let bad = gradient.firstIndex(where: { !$0.isFinite }) else { return }
        throw TrainingError("member \(member): the gradient became NaN or Inf in epoch \(epoch) (step \(state.step + 1), "
                            + "parameter \(bad)); \(divergenceOutcome)")
    }

    /// The epoch's reduced losses (normalised units) are finite and the training loss within bound.
    func checkLoss(normalisedMSE: Double, validationSum: Double, epoch: Int) throws {
        guard normalisedMSE.isFinite, validationSum.isFinite else {
            throw TrainingError("member \(member): the loss became NaN or Inf in epoch \(epoch) (step \(state.step)); \(divergenceOutcome)")
        }
        let bound = Divergence.lossFactor * max(targetBaseline, 1)
        guard normalisedMSE <= bound else {
            throw TrainingError("member \(member): the training loss diverged in epoch \(epoch) (step \(state.step)): "
                                + String(format: "%.3g", normalisedMSE) + " in normalised units, past the bound "
                                + String(format: "%.3g", bound) + "; \(divergenceOutcome)")
        }
    }

    /// The parameters after an epoch are finite and within what a model file may hold.
    func checkParameters(epoch: Int) throws {
        guard let bad = ModelDescription.firstUnacceptableWeight(state.parameters) else { return }
        throw TrainingError("member \(member): weights diverged in epoch \(epoch) (parameter \(bad) is \(state.parameters[bad]), "
                            + "past \(ModelDescription.largestWeight)); \(divergenceOutcome)")
    }
}
