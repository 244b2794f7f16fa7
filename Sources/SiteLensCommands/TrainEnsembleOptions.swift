import ArgumentParser
import Training

/// How the ensemble's members are made different: bagging (`TrainingPlan.bootstrap`).
struct EnsembleOptions: ParsableArguments {
    enum Switch: String, ExpressibleByArgument, CaseIterable { case on, off }

    @Option(help: "Bagging: each member trains on its own resample (with replacement) of the training structures, all members hold out one validation set, on which the 95 % interval is calibrated. off: each member its own validation split, no resampling.")
    var bootstrap: Switch = TrainingPlan.defaultBootstrap ? .on : .off

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
        plan.frozenMembers = Set((testFrozenMembers ?? "").split(separator: ",").compactMap { Int($0) })
    }
}
