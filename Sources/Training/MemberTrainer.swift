import Basics
import Foundation
import MPI
import Networks
import Structures
#if canImport(Glibc)
import Glibc
#endif

/// Trains one ensemble member data-parallel over a group of ranks.
///
/// Each rank encodes (rasterises) and holds only its shard: the training samples at positions
/// p with p mod groupSize = groupRank, and likewise for validation. Per epoch seeded global
/// batches are drawn (`TrainingPlan.epochBatches`, balanced across ranks); each rank takes the
/// samples of each batch it owns, runs forward and backward on them, and one in-place all-reduce of the flat gradient
/// buffer (Double, see `trainEpoch`) sums the group's gradients. The loss is divided by the global batch size, so the sum
/// is the gradient of the global batch mean, and every rank takes the same optimiser step.
final class MemberTrainer {
    let plan: TrainingPlan
    let member: Int
    let group: Communicator
    let structures: [Structure]
    let train: [Int]
    let validation: [Int]
    let description: ModelDescription
    let network: Network
    var parameters: [Float]
    /// Float gradients of one structure (the layers' output), and the step's sum in Double:
    /// the flat buffer that is all-reduced.
    var gradients: [Float]
    var gradientSum: [Double]
    var optimizer: Optimizer
    var step = 0
    var firstEpoch = 1
    var history: [EpochMetrics] = []
    /// The encoded samples this rank owns, by structure index.
    private var shard: [Int: EncodedStructure] = [:]
    /// Whether this rank prints progress (world rank 0 only).
    let prints: Bool

    init(plan: TrainingPlan, member: Int, group: Communicator, structures: [Structure],
         architecture: Architecture, encoding: InputEncoding, prints: Bool) throws {
        self.plan = plan
        self.member = member
        self.group = group
        self.structures = structures
        self.prints = prints
        (train, validation) = plan.split(count: structures.count, member: member)
        let energies = try train.map { index -> Double in
            guard let energy = structures[index].energy else {
                throw TrainingError("structure \(index + 1) has no target energy")
            }
            return energy
        }
        description = ModelDescription(architecture: architecture, encoding: encoding,
                                       normalisation: TargetNormalisation(fitting: energies))
        network = try Network(architecture)
        gradients = [Float](repeating: 0, count: network.parameterCount)
        gradientSum = [Double](repeating: 0, count: network.parameterCount)
        optimizer = Optimizer(kind: plan.optimizer, learningRate: Float(plan.learningRate), parameterCount: network.parameterCount)

        // Identical start: the group's root initialises (or loads) and broadcasts.
        parameters = group.isRoot ? network.initialParameters(seed: plan.memberSeed(member))
                                  : [Float](repeating: 0, count: network.parameterCount)
        var position: [Int64] = [0, 0]
        if let resume = plan.resumeFrom {
            if group.isRoot {
                let checkpoint = try Checkpoint.read(from: Checkpoint.url(in: resume, member: member))
                guard checkpoint.header.parameterCount == network.parameterCount, checkpoint.header.member == member else {
                    throw TrainingError("checkpoint of member \(member) does not match this model")
                }
                parameters = checkpoint.parameters
                optimizer = checkpoint.optimizer
                // The command line's learning rate applies from here on (same value: same run).
                optimizer.learningRate = Float(plan.learningRate)
                position = [Int64(checkpoint.header.epoch), Int64(checkpoint.header.step)]
            }
            try group.broadcast(&position, root: 0)
            if optimizer.kind == .adam {
                try group.broadcast(&optimizer.m, root: 0)
                try group.broadcast(&optimizer.v, root: 0)
            }
            firstEpoch = Int(position[0]) + 1
            step = Int(position[1])
            optimizer.step = step
        }
        try group.broadcast(&parameters, root: 0)

        let encoder = try SampleEncoder(encoding)
        for list in [train, validation] {
            for (position, index) in list.enumerated() where position % group.size == group.rank {
                do { shard[index] = try encoder.encode(structures[index]) }
                catch { throw TrainingError("structure \(index + 1)\(sourceNote(structures[index])): \(error)") }
            }
        }
    }

    private func sourceNote(_ structure: Structure) -> String {
        structure.info["line"].map { " (line \($0))" } ?? ""
    }

    /// Trains until the plan's last epoch (or its halt point).
    func run() throws {
        guard firstEpoch <= plan.epochs else { return }
        for epoch in firstEpoch...plan.epochs {
            let metrics = try trainEpoch(epoch)
            history.append(metrics)
            if prints && (epoch % max(plan.printEvery, 1) == 0 || epoch == plan.epochs) { report(metrics) }
            if plan.checkpointEvery > 0 && (epoch % plan.checkpointEvery == 0 || epoch == plan.epochs) && group.isRoot {
                try checkpoint(epoch: epoch).write(to: Checkpoint.url(in: plan.runDirectory, member: member))
            }
            if let halt = plan.haltAfterEpoch, epoch >= halt { break }
        }
        try verifyChecksum(label: "the end of training")
    }

    func checkpoint(epoch: Int) -> Checkpoint {
        Checkpoint(header: .init(member: member, epoch: epoch, step: step, memberSeed: plan.memberSeed(member),
                                 groupSize: group.size, parameterCount: parameters.count, optimizer: optimizer.kind,
                                 learningRate: optimizer.learningRate),
                   parameters: parameters, optimizer: optimizer)
    }

    /// Structure `index`'s target energy in standard units.
    private func target(_ index: Int) -> Float {
        Float((structures[index].energy! - description.normalisation.mean) / description.normalisation.scale)
    }

    /// Items of the given structures, one after another, and each structure's item count.
    private func batch(_ indices: [Int]) -> (values: [Float], counts: [Int], targets: [Float]) {
        var values: [Float] = [], counts: [Int] = []
        for index in indices {
            values += shard[index]!.values
            counts.append(shard[index]!.itemCount)
        }
        return (values, counts, indices.map(target))
    }

    /// Per-structure sums of per-item outputs (normalised energies).
    private func forward(_ values: [Float], counts: [Int]) -> [Float] {
        let items = counts.reduce(0, +)
        let outputs = values.withUnsafeBufferPointer { input in
            parameters.withUnsafeBufferPointer { network.forward(input.baseAddress!, items: items, parameters: $0.baseAddress!) }
        }
        var sums: [Float] = []
        var start = 0
        for count in counts {
            sums.append(outputs[start..<(start + count)].reduce(0, +))
            start += count
        }
        return sums
    }

    func trainEpoch(_ epoch: Int) throws -> EpochMetrics {
        let started = Date()
        var reduceSeconds = 0.0
        var sums: [Double] = [0, 0]  // squared and absolute error, normalised units
        for positions in plan.epochBatches(count: train.count, member: member, epoch: epoch) {
            for i in gradientSum.indices { gradientSum[i] = 0 }
            // One structure at a time, each gradient added into a Double sum: a structure's
            // gradient is computed the same way whichever rank owns it, and Double sums make the
            // order of addition (on this rank and across ranks) vanish below Float rounding, so
            // any rank count ends with the same parameters.
            for index in positions.filter({ $0 % group.size == group.rank }).map({ train[$0] }) {
                let encoded = shard[index]!
                let prediction = forward(encoded.values, counts: [encoded.itemCount])
                let loss = squaredErrorGradient(predictions: prediction, targets: [target(index)], denominator: positions.count)
                sums[0] += loss.sumSquared
                sums[1] += loss.sumAbsolute
                for i in gradients.indices { gradients[i] = 0 }
                // dE/d(item output) = 1: every item of the structure gets the structure's gradient.
                let itemGradient = [Float](repeating: loss.gradient[0], count: encoded.itemCount)
                encoded.values.withUnsafeBufferPointer { input in
                    parameters.withUnsafeBufferPointer { p in
                        gradients.withUnsafeMutableBufferPointer { g in
                            network.backward(itemGradient, input: input.baseAddress!, items: encoded.itemCount,
                                             parameters: p.baseAddress!, gradients: g.baseAddress!)
                        }
                    }
                }
                for i in gradients.indices { gradientSum[i] += Double(gradients[i]) }
            }
            let reduceStart = Date()
            if group.size > 1 { try group.allReduce(inPlace: &gradientSum, op: .sum) }
            reduceSeconds += Date().timeIntervalSince(reduceStart)
            for i in gradients.indices { gradients[i] = Float(gradientSum[i]) }
            optimizer.update(&parameters, gradients: gradients)
            step += 1
            if plan.checksumEvery > 0 && step % plan.checksumEvery == 0 { try verifyChecksum(label: "step \(step)") }
        }
        let trainTotals = try group.allReduce(sums, op: .sum)
        let validationTotals = try group.allReduce(evaluate(validation), op: .sum)
        let seconds = Date().timeIntervalSince(started)
        let scale = description.normalisation.scale
        let trainMSE = trainTotals[0] / Double(train.count) * scale * scale
        guard trainMSE.isFinite, validationTotals[0].isFinite else {
            throw TrainingError("member \(member): the loss became NaN or Inf in epoch \(epoch) (step \(step)); the last good checkpoint is kept")
        }
        let validationCount = Double(validation.count)
        return EpochMetrics(
            member: member, epoch: epoch, trainMSE: trainMSE, trainMAE: trainTotals[1] / Double(train.count) * scale,
            validationMSE: validation.isEmpty ? nil : validationTotals[0] / validationCount * scale * scale,
            validationMAE: validation.isEmpty ? nil : validationTotals[1] / validationCount * scale,
            seconds: seconds, samplesPerSecond: Double(train.count) / max(seconds, 1e-9),
            allReduceShare: reduceSeconds / max(seconds, 1e-9))
    }

    /// Squared and absolute error sums over the samples of `list` this rank owns.
    private func evaluate(_ list: [Int]) -> [Double] {
        let mine = list.enumerated().filter { $0.offset % group.size == group.rank }.map(\.element)
        guard !mine.isEmpty else { return [0, 0] }
        let (values, counts, targets) = batch(mine)
        let errors = squaredErrorGradient(predictions: forward(values, counts: counts), targets: targets, denominator: 1)
        return [errors.sumSquared, errors.sumAbsolute]
    }

    /// All ranks must hold the same parameters: compare a checksum's minimum and maximum.
    func verifyChecksum(label: String) throws {
        guard group.size > 1 else { return }
        let sum = parameterChecksum(parameters)
        let low = try group.allReduce(sum, op: .min), high = try group.allReduce(sum, op: .max)
        guard low == high else {
            throw TrainingError("member \(member): parameters differ across ranks at \(label) (checksums \(low) and \(high))")
        }
    }

    private func report(_ m: EpochMetrics) {
        var line = "member \(m.member) epoch \(m.epoch)/\(plan.epochs)  train MAE \(format(m.trainMAE)) RMSE \(format(m.trainRMSE)) eV"
        if let v = m.validationMAE, let r = m.validationRMSE { line += "  val MAE \(format(v)) RMSE \(format(r)) eV" }
        line += "  \(Int(m.samplesPerSecond)) samples/s  all-reduce \(Int((m.allReduceShare * 100).rounded()))%"
        if showsProgressBar {
            let width = 20
            let done = Int(Double(width) * Double(m.epoch) / Double(plan.epochs))
            let bar = String(repeating: "#", count: done) + String(repeating: ".", count: width - done)
            print("\r[\(bar)] " + line, terminator: m.epoch == plan.epochs ? "\n" : "")
        } else {
            print(line)
        }
        fflush(nil)
    }

    private func format(_ x: Double) -> String { String(format: "%.4f", x) }

    /// A bar redrawn in place only on a terminal outside any launcher: mpirun hands ranks a
    /// pseudo-terminal even when its own output goes to a batch log, so there plain lines are safer.
    private var showsProgressBar: Bool {
        let environment = ProcessInfo.processInfo.environment
        let launched = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_JOB_ID", "PBS_JOBID"].contains { environment[$0] != nil }
        return isatty(1) != 0 && !launched
    }
}

/// An order-dependent checksum of the parameter bits: equal buffers give equal sums.
func parameterChecksum(_ parameters: [Float]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for value in parameters { hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01B3 }
    return hash
}
