import ArgumentParser
import Training

extension KeptWeights: ExpressibleByArgument {}

/// Which weights to keep, when to stop, and the learning rate's course (`FitPolicy`). The
/// schedule's parameters are given only with the schedule that reads them.
struct FitOptions: ParsableArguments {
    enum ScheduleName: String, ExpressibleByArgument, CaseIterable { case constant, step, cosine, plateau }

    @Option(help: "Weights each member's model keeps: best (the epoch of lowest validation error; the last without a validation set) or last.")
    var keep: KeptWeights = FitPolicy().keep

    @Option(help: "Stop a member after N epochs without a lower validation error (0: never).")
    var patience = FitPolicy().patience

    @Option(help: "Learning rate by epoch: constant; step (times --lr-factor every --lr-step-epochs); cosine (from --learning-rate down to --lr-min over --epochs); plateau (times --lr-factor after --lr-patience epochs without a lower validation error).")
    var lrSchedule: ScheduleName = .constant

    @Option(help: "step: epochs between reductions (default \(Self.defaultStepEpochs)).")
    var lrStepEpochs: Int?

    @Option(help: "step, plateau: factor in (0, 1) of each reduction (default \(Self.defaultFactor)).")
    var lrFactor: Double?

    @Option(help: "step, cosine, plateau: the lowest learning rate (default 0).")
    var lrMin: Double?

    @Option(help: "plateau: epochs without a lower validation error before a reduction (default \(Self.defaultPlateauPatience)).")
    var lrPatience: Int?

    static let defaultStepEpochs = 10, defaultFactor = 0.5, defaultPlateauPatience = 5
    /// The longest patience or step an option accepts, in epochs (beyond any sensible run).
    static let longestEpochs = 10_000_000

    func check(learningRate: Double) throws {
        guard (0...Self.longestEpochs).contains(patience) else { throw ValidationError("--patience must be in 0...\(Self.longestEpochs), got \(patience)") }
        let uses: [(String, Bool, Set<ScheduleName>)] = [
            ("--lr-step-epochs", lrStepEpochs != nil, [.step]), ("--lr-factor", lrFactor != nil, [.step, .plateau]),
            ("--lr-min", lrMin != nil, [.step, .cosine, .plateau]), ("--lr-patience", lrPatience != nil, [.plateau]),
        ]
        for (name, given, schedules) in uses where given && !schedules.contains(lrSchedule) {
            throw ValidationError("\(name) applies to --lr-schedule \(schedules.map(\.rawValue).sorted().joined(separator: " or ")), not \(lrSchedule.rawValue)")
        }
        if let lrStepEpochs, !(1...Self.longestEpochs).contains(lrStepEpochs) {
            throw ValidationError("--lr-step-epochs must be in 1...\(Self.longestEpochs), got \(lrStepEpochs)")
        }
        if let lrPatience, !(1...Self.longestEpochs).contains(lrPatience) {
            throw ValidationError("--lr-patience must be in 1...\(Self.longestEpochs), got \(lrPatience)")
        }
        if let lrFactor, !(lrFactor > 0 && lrFactor < 1) { throw ValidationError("--lr-factor must be in (0, 1), got \(lrFactor)") }
        if let lrMin, !(lrMin >= 0 && lrMin < learningRate) {
            throw ValidationError("--lr-min must be in [0, --learning-rate \(learningRate)), got \(lrMin)")
        }
    }

    func apply(to plan: inout TrainingPlan) {
        plan.fitting.keep = keep
        plan.fitting.patience = patience
        let (factor, minimum) = (lrFactor ?? Self.defaultFactor, lrMin ?? 0)
        plan.fitting.schedule = switch lrSchedule {
        case .constant: .constant
        case .step: .step(everyEpochs: lrStepEpochs ?? Self.defaultStepEpochs, factor: factor, minimum: minimum)
        case .cosine: .cosine(epochs: plan.epochs, minimum: minimum)
        case .plateau: .plateau(patience: lrPatience ?? Self.defaultPlateauPatience, factor: factor, minimum: minimum)
        }
    }
}
