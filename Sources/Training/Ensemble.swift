import Basics
import Foundation
import MPI
import Networks
import Structures

/// A trained ensemble as world rank 0 holds it.
public struct TrainedEnsemble {
    public let members: [EnergyModel]
    public let metrics: [EpochMetrics]
}

/// Trains `plan.ensemble` members. The world is split into min(ensemble, ranks) groups (sizes
/// differ by at most one); group g trains members g, g + groups, ... one after another, each
/// data-parallel over its ranks. Every member's parameters are then gathered to world rank 0,
/// which writes `model/member-K.*`; every rank returns the full ensemble (rank 0 broadcasts it)
/// so evaluation can be shared out too.
public func trainEnsemble(world: Communicator, plan: TrainingPlan, structures: [Structure]) throws -> TrainedEnsemble {
    guard plan.ensemble >= 1 else { throw TrainingError("--ensemble must be at least 1") }
    guard structures.count >= 2 else { throw TrainingError("need at least 2 structures to train, have \(structures.count)") }
    let groups = min(plan.ensemble, world.size)
    let color = world.rank % groups
    guard let group = try world.split(color: color, key: world.rank) else { throw TrainingError("split returned no group") }
    let (architecture, encoding) = try makeModel(plan.kind, for: structures, options: plan.modelOptions)

    var trained: [(member: Int, description: ModelDescription, parameters: [Float])] = []
    var history: [EpochMetrics] = []
    for member in stride(from: color, to: plan.ensemble, by: groups) {
        let trainer = try MemberTrainer(plan: plan, member: member, group: group, structures: structures,
                                        architecture: architecture, encoding: encoding, prints: world.rank == 0 && !plan.quiet)
        try trainer.run()
        var description = trainer.description
        description.training = TrainingRecord(
            seed: plan.memberSeed(member), member: member, epochs: plan.epochs, batchSize: plan.batchSize,
            learningRate: plan.learningRate, optimizer: plan.optimizer, validationFraction: plan.validationFraction,
            trainCount: trainer.train.count, validationCount: trainer.validation.count, ranks: group.size)
        description.training?.finalTrainMAE = trainer.history.last?.trainMAE
        description.training?.finalValidationMAE = trainer.history.last?.validationMAE
        if group.isRoot {
            trained.append((member, description, trainer.parameters))
            history += trainer.history
        }
    }

    // Gather every member to world rank 0: descriptions as JSON bytes, parameters as floats.
    // JSON text holds no zero bytes, so a zero ends each description.
    var descriptionBytes: [UInt8] = []
    for entry in trained { descriptionBytes += Array(try JSONEncoder().encode(entry.description)) + [0] }
    let gatheredDescriptions = try world.gatherv(descriptionBytes, root: 0)
    let gatheredParameters = try world.gatherv(trained.flatMap(\.parameters), root: 0)
    let gatheredMetrics = try world.gatherv(history.flatMap(\.packed), root: 0)

    var package: [UInt8] = []
    if world.rank == 0 {
        var members: [(ModelDescription, [Float])] = []
        for (bytes, floats) in zip(gatheredDescriptions!, gatheredParameters!) {
            let texts = bytes.split(separator: 0, omittingEmptySubsequences: true)
            var offset = 0
            for text in texts {
                let description = try JSONDecoder().decode(ModelDescription.self, from: Data(text))
                let count = try Network(description.architecture).parameterCount
                members.append((description, Array(floats[offset..<(offset + count)])))
                offset += count
            }
        }
        members.sort { ($0.0.training?.member ?? 0) < ($1.0.training?.member ?? 0) }
        package = try EnsemblePackage.encode(members)
    }
    // Every rank gets the whole ensemble, for shared-out evaluation.
    let received = try world.broadcastArray(package, root: 0)
    let members = try EnsemblePackage.decode(received).map { try EnergyModel(description: $0.0, parameters: $0.1) }
    let metrics = (gatheredMetrics ?? []).flatMap { values in
        stride(from: 0, to: values.count, by: EpochMetrics.fieldCount).map { EpochMetrics(packed: values[$0..<($0 + EpochMetrics.fieldCount)]) }
    }.sorted { ($0.member, $0.epoch) < ($1.member, $1.epoch) }
    return TrainedEnsemble(members: members, metrics: metrics)
}

/// Members as one byte string: for each, a JSON description, a zero byte, then its float32 parameters.
enum EnsemblePackage {
    static func encode(_ members: [(ModelDescription, [Float])]) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for (description, parameters) in members {
            let json = Array(try JSONEncoder().encode(description))
            withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes += $0 }
            bytes += json
            withUnsafeBytes(of: UInt64(parameters.count).littleEndian) { bytes += $0 }
            parameters.withUnsafeBytes { bytes += $0 }
        }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> [(ModelDescription, [Float])] {
        var members: [(ModelDescription, [Float])] = []
        var offset = 0
        func readCount() -> Int {
            let value = bytes[offset..<(offset + 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            offset += 8
            return value
        }
        while offset < bytes.count {
            let jsonLength = readCount()
            let description = try JSONDecoder().decode(ModelDescription.self, from: Data(bytes[offset..<(offset + jsonLength)]))
            offset += jsonLength
            let count = readCount()
            let parameters = bytes[offset..<(offset + 4 * count)].withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            offset += 4 * count
            members.append((description, parameters))
        }
        return members
    }
}

/// Every member's item contributions for every structure, computed with the structures shared
/// out over the world (structure i on rank i mod size) and gathered to rank 0; nil elsewhere.
/// Result: [member][structure] → contributions (eV) of its items.
public func evaluateShared(world: Communicator, members: [EnergyModel], structures: [Structure]) throws -> [[[Double]]]? {
    var packed: [Double] = []
    for index in stride(from: world.rank, to: structures.count, by: world.size) {
        let encoded = try members[0].encoder.encode(structures[index])
        for (m, model) in members.enumerated() {
            let parts = model.contributions(encoded)
            packed += [Double(index), Double(m), Double(parts.count)] + parts
        }
    }
    guard let gathered = try world.gatherv(packed, root: 0) else { return nil }
    var result = Array(repeating: Array(repeating: [Double](), count: structures.count), count: members.count)
    for values in gathered {
        var offset = 0
        while offset < values.count {
            let (index, m, count) = (Int(values[offset]), Int(values[offset + 1]), Int(values[offset + 2]))
            result[m][index] = Array(values[(offset + 3)..<(offset + 3 + count)])
            offset += 3 + count
        }
    }
    return result
}
