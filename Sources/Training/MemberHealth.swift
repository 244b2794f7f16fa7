import Basics
import Foundation
import Networks
import Structures

/// A member left out of the ensemble's predictions and decompositions (run.json
/// `excludedMembers`), with the figures that decided it.
public struct ExcludedMember: Codable, Sendable, Equatable {
    public var member: Int
    /// Its validation MAE at the epoch whose weights it keeps, eV.
    public var validationMAE: Double
    /// The MAE on the same validation structures of predicting its training targets' mean, eV.
    public var baselineMAE: Double
    public var reason: String
}

/// The ensemble as trained, checked before it is reported: members that did not learn (their
/// validation error not below the training-mean baseline) are left out, unless every member
/// failed, and the 95 % interval is calibrated on the validation structures no kept member
/// trained on (`IntervalCalibration`).
public struct EnsembleCheck: Sendable {
    /// The members kept, by member number, in order.
    public let kept: [Int]
    public let excluded: [ExcludedMember]
    /// Every member failed the check, so all were kept (an empty ensemble predicts nothing).
    public let noneLearned: Bool
    public let calibration: IntervalCalibration

    /// `contributions[m][i]`: member m's item contributions for structure i (all members).
    public init(plan: TrainingPlan, structures: StructureStore, members: [EnergyModel], contributions: [[[Double]]]) {
        let count = structures.count
        let failed = members.indices.compactMap { Self.failure(of: $0, members[$0], plan: plan, structures: structures) }
        noneLearned = !failed.isEmpty && failed.count == members.count
        excluded = noneLearned ? [] : failed
        let left = Set(excluded.map(\.member))
        kept = members.indices.filter { !left.contains($0) }
        // Structures no kept member trained on, outside the test set.
        var seen = Set(plan.testSet(count: count))
        for m in kept { seen.formUnion(plan.split(count: count, member: m).train) }
        let held = (0..<count).filter { !seen.contains($0) && structures.energy($0) != nil }
        var (targets, means, stds) = ([Double](), [Double](), [Double]())
        for i in held {
            let spread = Spread(kept.map { contributions[$0][i].reduce(0, +) })
            targets.append(structures.energy(i) ?? .nan)
            means.append(spread.mean)
            stds.append(spread.std)
        }
        calibration = IntervalCalibration.fitted(targets: targets, means: means, stds: stds, members: kept.count)
    }

    /// A member has learned when its validation MAE is below this share of the baseline's. Not
    /// 1: a network whose output does not depend on its input (the six-block ryczko CNN at
    /// initialisation, Method.md) predicts the training mean and matches the baseline to rounding.
    public static let learnedShare = 0.99

    /// Why member m did not learn, or nil: its validation MAE is not below `learnedShare` of the
    /// baseline's. A member without validation structures cannot be judged and is kept.
    static func failure(of m: Int, _ model: EnergyModel, plan: TrainingPlan, structures: StructureStore) -> ExcludedMember? {
        let (train, validation) = plan.split(count: structures.count, member: m)
        let trainTargets = train.compactMap { structures.energy($0) }
        let validationTargets = validation.compactMap { structures.energy($0) }
        guard let mae = model.modelDescription.training?.finalValidationMAE, !validationTargets.isEmpty, !trainTargets.isEmpty else { return nil }
        let mean = trainTargets.reduce(0, +) / Double(trainTargets.count)
        let baseline = validationTargets.map { abs($0 - mean) }.reduce(0, +) / Double(validationTargets.count)
        // A NaN error is no learning either.
        guard !(mae < learnedShare * baseline) else { return nil }
        return ExcludedMember(member: m, validationMAE: mae, baselineMAE: baseline,
                              reason: "validation MAE \(format(mae)) eV is not below \(Int(learnedShare * 100)) % of \(format(baseline)) eV, the MAE of predicting its training mean")
    }

    /// What the console says about the check: each member left out, or that none learned.
    public var notes: [String] {
        if noneLearned {
            return ["warning: no member's validation error is below predicting the training mean: every member is kept, but this ensemble has not learned "
                    + "(train longer, change the learning rate, or check the data)"]
        }
        return excluded.map { "warning: member \($0.member) did not learn (\($0.reason)); it is left out of predictions and decompositions (\(RunFolder.Output.record.rawValue) excludedMembers)" }
    }
}

private func format(_ x: Double) -> String { String(format: "%.4f", x) }
