import Basics
import Decomposition
import Structures
import Training

/// A training run from its first epoch to its last file, in its one order: train the ensemble
/// and evaluate every structure with it and measure the swaps of its decomposition (every rank,
/// each its share), then on world rank 0 write the learning curve and the run's outputs
/// (`writeRunOutputs`), finish the run folder (`TrainingRun.finish`: the record marked
/// complete, a replacement moved in) and name what it holds. It lives here,
/// not in `Training`, because the outputs are this module's and it sits downstream of `Training`.
public func trainAndReport(_ run: TrainingRun, structures: StructureStore) throws {
    let trained = try run.train(structures: structures)
    let evaluated = try run.evaluate(trained, structures: structures)
    // Every rank measures its share of the swaps (for every member: which are kept is decided below, on rank 0).
    let swaps = try measureSwapsShared(members: trained.members, structures: structures, sharing: run.sharing)
    guard let contributions = evaluated else { return }
    let folder = run.plan.runFolder
    try RunReport.writeLearningCurve(trained.metrics.map { LearningPoint(member: $0.member, epoch: $0.epoch, trainMAE: $0.trainMAE, validationMAE: $0.validationMAE) },
                                     to: folder)
    let check = EnsembleCheck(plan: run.plan, structures: structures, members: trained.members, contributions: contributions)
    check.notes.forEach { print($0) }
    run.record(check)
    let (decomposition, test) = try writeRunOutputs(members: check.kept.map { trained.members[$0] }, structures: structures,
                                                    contributions: check.kept.map { contributions[$0] }, roles: run.roles(count: structures.count),
                                                    calibration: check.calibration, swaps: try swaps?.members(check.kept), to: folder)
    try run.finish()
    let names = finishedRunContents(of: run.destination, withContributions: decomposition.perAtom != nil)
    print("outputs in \(run.destination.path): \(names.joined(separator: ", "))")
    if let warning = test.flatMap({ notLearntWarning($0, plan: run.plan) }) { print(warning) }
}

/// The warning a run ends with when its ensemble has not learnt (`TestMetrics.learnt`): the
/// rule, the two errors, and what to change.
func notLearntWarning(_ test: TestMetrics, plan: TrainingPlan) -> String? {
    guard !test.learnt else { return nil }
    return String(format: "warning: the model has not learnt: its test MAE %.4f eV is not clearly below predicting the training mean's %.4f eV "
                  + "(the rule: below %.2g × it). ", test.ensembleMean.mae, test.meanBaseline.mae, TestMetrics.learntBelowShareOfMean)
        + "Train longer (--epochs, \(plan.epochs) here), try another --learning-rate (\(plan.learningRate) here; smaller and for longer "
        + "when the errors jump between epochs), or start from the \(plan.kind.rawValue) model's recipe (the defaults `train --help` lists; Docs/Benchmarks.md)."
}

/// What a finished run holds for its reader, named from `RunFolder`: the members' folder, then
/// every `Output` but the record, in their order; contributions.xyz only when written.
func finishedRunContents(of folder: RunFolder, withContributions: Bool) -> [String] {
    let outputs = RunFolder.Output.allCases.filter { $0 != .record && ($0 != .contributionsXYZ || withContributions) }
    return [folder.modelFolder.lastPathComponent + "/"] + outputs.map(\.rawValue)
}
