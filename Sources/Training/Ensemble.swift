import Basics
import Foundation
import MPI
import Networks
import Structures

/// A trained ensemble as world rank 0 holds it.
public struct TrainedEnsemble {
    public let members: [EnergyModel]
    public let metrics: [EpochMetrics]
    /// Each rank's memory and start-up time (world rank 0 only; empty elsewhere).
    public let resources: [ResourceUsage]
    /// This rank's sample source of its group's last member, kept for `evaluateShared`.
    let kept: KeptSamples
}

/// The sample source a rank still holds when training ends, and what decides evaluation's
/// ownership; `evaluateShared` lets it go once it has evaluated.
final class KeptSamples {
    var source: SampleSource?
    let layout: GroupLayout
    let plan: TrainingPlan

    init(source: SampleSource?, layout: GroupLayout, plan: TrainingPlan) {
        self.source = source
        self.layout = layout
        self.plan = plan
    }
}

/// Trains `plan.ensemble` members. The world is split into min(ensemble, ranks) groups (sizes
/// differ by at most one); group g trains members g, g + groups, ... one after another, each
/// data-parallel over its ranks. Every member's parameters are then gathered to world rank 0,
/// and every rank returns the full ensemble (rank 0 broadcasts it) so evaluation can be shared
/// out too. `model` is the architecture and encoding (by default made for these structures).
public func trainEnsemble(world: Communicator, plan: TrainingPlan, structures: [Structure],
                          model: (Architecture, InputEncoding)? = nil) throws -> TrainedEnsemble {
    try trainEnsemble(world: world, plan: plan, structures: LoadedStructures(structures), model: model)
}

/// `trainEnsemble` over a store: each rank reads only the structures it trains on. With
/// `logsMetrics` (a claimed run folder), each member's epochs are appended to its log in
/// `plan.runFolder` as they finish (`MetricsLog`).
public func trainEnsemble(world: Communicator, plan: TrainingPlan, structures: StructureStore,
                          model: (Architecture, InputEncoding)? = nil, logsMetrics: Bool = false) throws -> TrainedEnsemble {
    guard plan.ensemble >= 1 else { throw TrainingError("--ensemble must be at least 1") }
    if let (option, problem) = TrainingPlan.fractionProblem(validation: plan.validationFraction, test: plan.testFraction) {
        throw TrainingError("\(option) \(problem)")
    }
    guard structures.count >= 2 else { throw TrainingError("need at least 2 structures to train, have \(structures.count)") }
    let layout = GroupLayout(worldSize: world.size, ensemble: plan.ensemble)
    let color = layout.group(ofWorldRank: world.rank)
    guard let group = try world.split(color: color, key: world.rank) else { throw TrainingError("split returned no group") }
    precondition(Shard(rank: group.rank, size: group.size) == layout.shard(ofWorldRank: world.rank), "the split follows GroupLayout")
    let (architecture, encoding) = try model ?? makeModel(plan.kind, for: structures, options: plan.modelOptions)

    let budget = try plan.memoryBudget ?? defaultMemoryBudget(world: world)
    var trained: [TrainedMember] = []
    var history: [EpochMetrics] = []
    var firstStepSeconds: Double?
    var lastSource: SampleSource?
    // Each group's root reports its members' epochs, so every member of an ensemble is seen.
    let prints = group.isRoot && !plan.quiet
    let progress = prints ? TrainingProgress(members: Array(layout.members(ofGroup: color)), epochs: plan.epochs) : nil
    for member in layout.members(ofGroup: color) {
        lastSource = nil  // the previous member's samples go before the next member's are made
        let trainer = try MemberTrainer(plan: plan, member: member, group: group, structures: structures,
                                        architecture: architecture, encoding: encoding, memoryBudget: budget,
                                        prints: prints, logsMetrics: logsMetrics)
        trainer.progress = progress
        defer { progress?.endLine() }
        try trainer.run()
        var modelDescription = trainer.modelDescription
        modelDescription.training = TrainingRecord(
            seed: plan.memberSeed(member), member: member, epochs: plan.epochs, batchSize: plan.batchSize,
            learningRate: plan.learningRate, optimizer: plan.optimizer, validationFraction: plan.validationFraction,
            trainCount: trainer.train.count, validationCount: trainer.validation.count, ranks: group.size)
        // The errors of the epoch whose weights are kept (`--keep`); members may stop at different epochs.
        let kept = trainer.history.last { $0.epoch == trainer.keptEpoch }
        modelDescription.training?.keptEpoch = trainer.keptEpoch
        modelDescription.training?.finalTrainMAE = kept?.trainMAE
        modelDescription.training?.finalValidationMAE = kept?.validationMAE
        modelDescription.training?.targets = TargetSummary(trainer.train.compactMap { structures.energy($0) })
        if group.isRoot {
            trained.append(TrainedMember(modelDescription: modelDescription, parameters: FloatBuffer(trainer.keptParameters)))
            history += trainer.history
        }
        firstStepSeconds = firstStepSeconds ?? trainer.firstStepSeconds
        lastSource = trainer.samples
    }

    // Every member to world rank 0, then the whole ensemble to every rank (for shared-out evaluation).
    let gatheredMembers = try world.gather(trained, root: 0)
    let gatheredMetrics = try world.gather(history, root: 0)
    let ensemble = try world.broadcast(gatheredMembers.map { lists in
        lists.flatMap { $0 }.sorted { ($0.modelDescription.training?.member ?? 0) < ($1.modelDescription.training?.member ?? 0) }
    }, root: 0)
    let members = try ensemble.map { try EnergyModel(modelDescription: $0.modelDescription, parameters: $0.parameters.values) }
    let metrics = (gatheredMetrics ?? []).flatMap { $0 }.sorted { ($0.member, $0.epoch) < ($1.member, $1.epoch) }
    let usage = try world.gather(ResourceUsage(rank: world.rank, peakResidentBytes: peakResidentBytes(), secondsToFirstStep: firstStepSeconds), root: 0)
    return TrainedEnsemble(members: members, metrics: metrics, resources: usage ?? [],
                           kept: KeptSamples(source: lastSource, layout: layout, plan: plan))
}

/// A trained member as it crosses ranks.
struct TrainedMember: Codable {
    var modelDescription: ModelDescription
    var parameters: FloatBuffer
}

/// Float values that cross ranks bit for bit inside a `Codable` value: little-endian float32
/// bytes (base64 in JSON), so NaN, −0 and every last bit survive.
struct FloatBuffer: Codable {
    var values: [Float]
    init(_ values: [Float]) { self.values = values }

    init(from decoder: Decoder) throws {
        let data = try decoder.singleValueContainer().decode(Data.self)
        var reader = ByteReader(data)
        guard data.count % 4 == 0 else { throw ByteFormatError(field: "float buffer", "\(data.count) bytes is not a whole number of float32 values") }
        values = try reader.readFloats(data.count / 4, "float buffer")
    }

    func encode(to encoder: Encoder) throws {
        var writer = ByteWriter()
        writer.append(floats: values)
        var container = encoder.singleValueContainer()
        try container.encode(writer.data)
    }
}

/// Every member's item contributions for every structure, computed with the structures shared
/// out over the world by the `Shard` rule and gathered to rank 0; nil elsewhere. For members
/// loaded from a run (`decompose`, `predict`): nothing was rasterised before.
/// Result: [member][structure] → contributions (eV) of its items.
public func evaluateShared(world: Communicator, members: [EnergyModel], structures: [Structure]) throws -> [[[Double]]]? {
    try evaluateShared(world: world, members: members, structures: LoadedStructures(structures))
}

/// `evaluateShared` over a store: each rank reads only the structures it evaluates.
public func evaluateShared(world: Communicator, members: [EnergyModel], structures: StructureStore) throws -> [[[Double]]]? {
    let mine = Shard(rank: world.rank, size: world.size).mine(Array(0..<structures.count)).map { (index: $0, kept: false) }
    return try gatherEvaluated(evaluate(mine, members: members, kept: nil, structures: structures, progress: evaluationProgress(mine.count, world: world)),
                               world: world, memberCount: members.count, count: structures.count)
}

/// The ensemble just trained, evaluated with the ownership of training (`EvaluationOwners`):
/// each structure on one rank, with every member, from the sample source that rank trained
/// with where it holds the structure, so a cached structure is not rasterised again. The kept
/// sources are let go afterwards. Contributions gathered to rank 0 as the other form.
public func evaluateShared(world: Communicator, trained: TrainedEnsemble, structures: StructureStore) throws -> [[[Double]]]? {
    let kept = trained.kept
    let plan = kept.plan
    let owners = EvaluationOwners(count: structures.count, layout: kept.layout) { plan.split(count: structures.count, member: $0) }
    let mine = owners.structures(of: world.rank)
    let evaluated = try evaluate(mine, members: trained.members, kept: kept.source, structures: structures,
                                 progress: evaluationProgress(mine.count, world: world))
    kept.source = nil
    return try gatherEvaluated(evaluated, world: world, memberCount: trained.members.count, count: structures.count)
}

/// Rank 0's meter for its share of an evaluation: the ranks evaluate their shares at once, so
/// rank 0's time left stands for the evaluation's.
func evaluationProgress(_ count: Int, world: Communicator) -> ProgressMeter? {
    world.rank == 0 ? ProgressMeter(title: "evaluating" + (world.size > 1 ? " (rank 0's share)" : ""), total: count, unit: "structures") : nil
}

/// One structure's contributions under every member.
struct Evaluated: Codable {
    var index: Int
    var contributions: [[Double]]
}

/// The contributions of `structures` under every member: each encoded once, by `kept` where it
/// holds the structure, else here (with the next few prepared on a second thread), and run in
/// passes of many structures' items (`BatchedEvaluation`: the same shape of pass in every path,
/// so the result does not depend on how the structures were shared out).
func evaluate(_ structures: [(index: Int, kept: Bool)], members: [EnergyModel], kept: SampleSource?,
              structures store: StructureStore, progress: ProgressMeter? = nil) throws -> [Evaluated] {
    guard let first = members.first else { return [] }
    defer { progress?.finish() }
    let fresh = StreamingShard(structures: store, encoder: first.encoder)
    let chunk = 32
    // A chunk's samples are asked to be prepared one chunk ahead, so encoding overlaps evaluating.
    func prepare(_ start: Int) {
        let next = structures[min(start, structures.count)..<min(start + chunk, structures.count)]
        fresh.prefetch(next.filter { !($0.kept && kept != nil) }.map(\.index))
        kept?.prefetch(next.filter(\.kept).map(\.index))
    }
    var batch = try BatchedEvaluation(members: members)
    var result: [Evaluated] = []
    result.reserveCapacity(structures.count)
    func take(_ done: [(tag: Int, contributions: [[Double]])]) {
        for (index, contributions) in done { result.append(Evaluated(index: index, contributions: contributions)) }
        if !done.isEmpty { progress?.advance(by: done.count) }
    }
    prepare(0)
    for start in stride(from: 0, to: structures.count, by: chunk) {
        prepare(start + chunk)
        for (index, isKept) in structures[start..<min(start + chunk, structures.count)] {
            let encoded = try isKept ? (kept ?? fresh).sample(index) : fresh.sample(index)
            take(try batch.add(encoded, tag: index))
        }
    }
    take(try batch.finish())
    return result
}

/// Every rank's evaluated structures to rank 0, as [member][structure] → contributions.
private func gatherEvaluated(_ mine: [Evaluated], world: Communicator, memberCount: Int, count: Int) throws -> [[[Double]]]? {
    guard let gathered = try world.gather(mine, root: 0) else { return nil }
    var result = Array(repeating: Array(repeating: [Double](), count: count), count: memberCount)
    for evaluated in gathered.joined() {
        for m in 0..<memberCount { result[m][evaluated.index] = evaluated.contributions[m] }
    }
    return result
}
