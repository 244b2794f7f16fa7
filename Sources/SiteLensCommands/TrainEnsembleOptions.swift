import ArgumentParser
import Training

/// How the ensemble's members are made different and held out from: bagging and the validation
/// split (`TrainingPlan.bootstrap`, `sharedValidation`).
struct EnsembleOptions: ParsableArguments {
    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }
    enum ValidationSplit: String, ExpressibleByArgument, CaseIterable { case shared, perMember = "per-member" }

    @Option(help: "Bagging: on trains each member on its own resample (with replacement) of its training structures.")
    var bootstrap: Switch = TrainingPlan.defaultBootstrap ? .on : .off

    @Option(help: "shared: all members hold out one validation set, on which the 95 % interval (lo95, hi95) is calibrated; per-member: each its own (the interval then rarely calibrates).")
    var validationSplit: ValidationSplit = TrainingPlan.defaultSharedValidation ? .shared : .perMember

    /// Hidden: members trained with learning rate 0, to plant a member that does not learn (tests).
    @Option(help: .hidden)
    var testFrozenMembers: String?

    func check() throws {
        if let testFrozenMembers, testFrozenMembers.split(separator: ",").contains(where: { Int($0) == nil }) {
            throw ValidationError("--test-frozen-members takes member numbers separated by commas, got '\(testFrozenMembers)'")
        }
    }

    func apply(to plan: inout TrainingPlan) {
        plan.bootstrap = bootstrap == .on
        plan.sharedValidation = validationSplit == .shared
        plan.frozenMembers = Set((testFrozenMembers ?? "").split(separator: ",").compactMap { Int($0) })
    }
}
