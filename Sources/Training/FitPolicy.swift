import Foundation

/// Which weights a member's model file holds at the end of training.
public enum KeptWeights: String, Codable, Sendable, CaseIterable {
    /// The epoch with the lowest validation error (Keras's `restore_best_weights`).
    case best
    /// The last epoch trained.
    case last
}

/// How the learning rate moves from epoch to epoch. `learningRate(epoch:base:reductions:)`
/// is the one formula: the rate for an epoch is set before its first step.
public enum LearningRateSchedule: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// base · factor^⌊(epoch − 1) / everyEpochs⌋, not below `minimum` (DeePMD's decay, by epochs).
    case step(everyEpochs: Int, factor: Double, minimum: Double)
    /// minimum + (base − minimum) · (1 + cos(π (epoch − 1) / epochs)) / 2: the base rate in
    /// epoch 1, falling to just above `minimum` in the last of `epochs` (Keras's CosineDecay).
    case cosine(epochs: Int, minimum: Double)
    /// base · factor^k, not below `minimum`, k the reductions so far: one each time `patience`
    /// epochs pass without a lower validation error (Keras's ReduceLROnPlateau, cooldown 0).
    case plateau(patience: Int, factor: Double, minimum: Double)

    /// The rate for `epoch` (from 1) from the base rate, `reductions` plateau reductions so far.
    public func learningRate(epoch: Int, base: Double, reductions: Int = 0) -> Double {
        switch self {
        case .constant:
            return base
        case .step(let every, let factor, let minimum):
            return max(minimum, base * pow(factor, Double((epoch - 1) / max(every, 1))))
        case .cosine(let epochs, let minimum):
            let progress = Double(epoch - 1) / Double(max(epochs, 1))
            return minimum + (base - minimum) * (1 + cos(Double.pi * progress)) / 2
        case .plateau(_, let factor, let minimum):
            return max(minimum, base * pow(factor, Double(reductions)))
        }
    }

    /// The schedule as `run.json` records it and `--resume` compares it (the cosine's length
    /// is part of it: a resume that changes --epochs would change every later rate).
    var recorded: String {
        switch self {
        case .constant: "constant"
        case .step(let every, let factor, let minimum): "step every \(every) epochs by \(factor), at least \(minimum)"
        case .cosine(let epochs, let minimum): "cosine over \(epochs) epochs to \(minimum)"
        case .plateau(let patience, let factor, let minimum): "plateau after \(patience) epochs by \(factor), at least \(minimum)"
        }
    }
}

/// What a user can leave training to decide: which weights to keep, when to stop, and the
/// learning rate's course. Every decision reads the epoch's validation error reduced over the
/// member's group and then broadcast from its root, so all ranks of a group decide alike.
public struct FitPolicy: Sendable, Equatable {
    public var keep = KeptWeights.best
    /// Stop after this many epochs without a lower validation error (0: never).
    public var patience = 0
    public var schedule = LearningRateSchedule.constant

    public init() {}

    /// Whether decisions need a validation error to read.
    var needsValidation: Bool {
        if case .plateau = schedule { return true }
        return patience > 0
    }

    /// The policy by command-line name, for `run.json`'s options (`RunRecord.mismatches`
    /// compares them on resume).
    public var recordedOptions: [String: String] {
        ["--keep": keep.rawValue, "--patience": "\(patience)", "--lr-schedule": schedule.recorded]
    }
}

/// Where a member's policy stands after an epoch: the best validation error so far and its
/// epoch, the epochs since, the plateau's count, and whether training has stopped. It is part
/// of the member's state (`MemberState`) and of its checkpoints.
public struct FitProgress: Codable, Sendable, Equatable {
    public var bestEpoch: Int?
    /// The best epoch's validation mean squared error (eV²).
    public var bestValidationMSE: Double?
    public var epochsWithoutImprovement = 0
    /// Epochs without improvement since the plateau schedule last lowered the rate.
    public var plateauWait = 0
    public var reductions = 0
    public var stopped = false

    public init() {}

    /// What an epoch's validation error changes: `improved` tells the caller to keep this
    /// epoch's weights. Without a validation error nothing changes.
    mutating func record(epoch: Int, validationMSE: Double?, policy: FitPolicy) -> (improved: Bool, reducedRate: Bool) {
        guard let error = validationMSE else { return (false, false) }
        var reduced = false
        let improved = bestValidationMSE.map { error < $0 } ?? true
        if improved {
            (bestEpoch, bestValidationMSE, epochsWithoutImprovement, plateauWait) = (epoch, error, 0, 0)
        } else {
            epochsWithoutImprovement += 1
            plateauWait += 1
            if case .plateau(let patience, _, _) = policy.schedule, plateauWait >= patience {
                (reductions, plateauWait, reduced) = (reductions + 1, 0, true)
            }
        }
        if policy.patience > 0 && epochsWithoutImprovement >= policy.patience { stopped = true }
        return (improved, reduced)
    }

    /// What no run writes, by field, for a checkpoint at `epoch`; nil when sound.
    func problem(epoch: Int) -> (field: String, problem: String)? {
        if let best = bestEpoch, !(1...max(epoch, 1)).contains(best) {
            return ("fit.bestEpoch", "\(best); a checkpoint at epoch \(epoch) has its best epoch in 1...\(epoch)")
        }
        if (bestEpoch == nil) != (bestValidationMSE == nil) { return ("fit.bestValidationMSE", "given without its epoch, or missing") }
        if let error = bestValidationMSE, !(error.isFinite && error >= 0) { return ("fit.bestValidationMSE", "\(error); must be finite and not negative") }
        for (field, value) in [("epochsWithoutImprovement", epochsWithoutImprovement), ("plateauWait", plateauWait), ("reductions", reductions)]
        where !(0...max(epoch, 0)).contains(value) {
            return ("fit.\(field)", "\(value); must be in 0...\(epoch) at epoch \(epoch)")
        }
        return nil
    }
}
