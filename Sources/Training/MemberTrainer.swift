import Basics
import Foundation
import MPI
import Networks
import Structures
#if canImport(Glibc)
import Glibc
#endif

/// Trains one ensemble member data-parallel over a group of ranks, in parts: the member's
/// `MemberState` (agreed on by the group), its `SampleSource` (this rank's shard only, by the
/// `Shard` rule), a `GradientAccumulator`, and `takeStep` (TrainingStep.swift). This class runs
/// the epochs, checks that ranks agree, checkpoints and prints.
final class MemberTrainer {
    let plan: TrainingPlan
    let member: Int
    let group: Communicator
    let shard: Shard
    let structures: StructureStore
    let train: [Int]
    let validation: [Int]
    let modelDescription: ModelDescription
    let network: Network
    var state: MemberState
    var gradients: GradientAccumulator
    /// A step's chunk of inputs laid end to end, kept across steps (a fresh array per chunk
    /// meant copying as it grew and page faults each step: 15 % of atomic's training profile).
    var chunkInput: [Float] = []
    var history: [EpochMetrics] = []
    /// Seconds from process start to the end of this rank's first step (nil before it).
    var firstStepSeconds: Double?
    /// This rank's encoded samples (training and validation).
    let samples: SampleSource
    /// Whether this rank prints progress (each group's root).
    let prints: Bool
    /// Where the epochs are reported (the group's `TrainingProgress`; nil: plain lines, no ETA).
    var progress: TrainingProgress?
    /// The member's metrics log, appended epoch by epoch (the group's root only).
    private var log: MemberMetricsLog?
    /// The mean squared normalised target: the loss of predicting zero, against which a
    /// diverging loss is measured (`Divergence`).
    let targetBaseline: Double
    /// The epoch of the last checkpoint written or resumed from (nil: none).
    var lastCheckpointEpoch: Int?
    /// Ends the job when steps stop finishing (`plan.stallTimeout`), while `run` trains.
    private var watchdog: StallWatchdog?

    var parameters: [Float] { state.parameters }

    init(plan: TrainingPlan, member: Int, group: Communicator, structures: StructureStore,
         architecture: Architecture, encoding: InputEncoding, memoryBudget: Int, prints: Bool, logsMetrics: Bool = false) throws {
        self.plan = plan
        self.member = member
        self.group = group
        self.shard = Shard(rank: group.rank, size: group.size)
        self.structures = structures
        self.prints = prints
        (train, validation) = plan.split(count: structures.count, member: member)
        let energies = try train.map { index -> Double in
            guard let energy = structures.energy(index) else {
                throw TrainingError("structure \(index + 1) has no target energy")
            }
            return energy
        }
        modelDescription = ModelDescription(architecture: architecture, encoding: encoding,
                                            normalisation: TargetNormalisation(fitting: energies, for: encoding))
        // What `predict` accepts, checked before training rather than after.
        try modelDescription.normalisation.check { field, problem in
            TrainingError("member \(member): the training energies give \(field) \(problem) (eV)")
        }
        let normalisation = modelDescription.normalisation
        targetBaseline = energies.reduce(0) { $0 + pow(($1 - normalisation.mean) / normalisation.scale, 2) } / Double(max(energies.count, 1))
        let network = try Network(architecture, convolutionBackend: plan.convolutionBackend, precision: plan.convolutionPrecision)
        self.network = network
        let gradientBytes = network.parameterCount * plan.gradientPrecision.bytesPerValue
        gradients = GradientAccumulator(network: network, reduction: try plan.gradientReduction.resolved(for: group, gradientBytes: gradientBytes),
                                        precision: plan.gradientPrecision, group: group)
        var resumed: ResumePoint?
        state = try MemberState.agreed(in: group) { [plan, train] in
            guard plan.resumeFrom != nil else {
                let initial = try plan.initialParameters(network: network, member: member, train: train, structures: structures, encoding: encoding)
                return MemberState(parameters: initial,
                                   optimizer: Optimizer(kind: plan.optimizer, learningRate: Float(plan.learningRate),
                                                        parameterCount: network.parameterCount),
                                   epoch: 0, step: 0)
            }
            guard let run = plan.run else { throw TrainingError("member \(member): a resumed plan needs its run record") }
            let point = try ResumePoint.load(member: member, plan: plan, run: run, parameterCount: network.parameterCount,
                                             structureCount: structures.count, note: { print("note: \($0)") })
            resumed = point
            var optimizer = point.checkpoint.optimizer
            // The command line's learning rate applies from here on (a change is recorded in run.json).
            optimizer.learningRate = Float(plan.learningRate)
            return MemberState(parameters: point.checkpoint.parameters, optimizer: optimizer,
                               epoch: point.checkpoint.header.epoch, step: point.checkpoint.header.step,
                               fit: point.checkpoint.header.fit, bestParameters: point.checkpoint.bestParameters)
        }
        if plan.fitting.needsValidation && validation.isEmpty {
            throw TrainingError("member \(member): --patience and --lr-schedule plateau watch the validation error, and this member has "
                                + "no validation structures (raise --validation-fraction)")
        }
        if prints && member == 0 && plan.fitting.keep == .best && validation.isEmpty {
            print("note: --keep best keeps the last epoch's weights: with --validation-fraction \(plan.validationFraction) no structure is held out to pick the best by")
        }
        lastCheckpointEpoch = plan.resumeFrom == nil ? nil : state.epoch
        samples = try makeSampleSource(structures: structures, indices: shard.mine(train) + shard.mine(validation),
                                       encoder: try SampleEncoder(encoding), choice: plan.imageCache, budget: memoryBudget,
                                       describe: { if prints && member == 0 { print($0) } })
        if group.isRoot {
            // The epochs before the checkpoint, so the run's history covers every epoch once.
            history = resumed?.history ?? []
            if logsMetrics { log = try MemberMetricsLog(folder: plan.runFolder, member: member, history: history) }
        }
    }

    /// Trains until the plan's last epoch (or its halt point, or until `--patience` stops it).
    func run() throws {
        let firstEpoch = state.epoch + 1
        guard firstEpoch <= plan.epochs, !state.fit.stopped else { return }
        watchdog = StallWatchdog.start(timeout: plan.stallTimeout, communicator: group, member: member)
        defer { watchdog?.stop() }
        for epoch in firstEpoch...plan.epochs {
            let scheduled = plan.fitting.schedule.learningRate(epoch: epoch, base: plan.learningRate, reductions: state.fit.reductions)
            let rate = plan.frozenMembers.contains(member) ? 0 : scheduled
            state.optimizer.learningRate = Float(rate)
            var metrics = try trainEpoch(epoch)
            metrics.learningRate = rate
            try checkParameters(epoch: epoch)
            state.epoch = epoch
            history.append(metrics)
            try log?.append(metrics)
            if prints && (epoch % max(plan.printEvery, 1) == 0 || epoch == plan.epochs) { report(metrics) }
            let stops = applyFitPolicy(metrics)
            if plan.checkpointEvery > 0 && (epoch % plan.checkpointEvery == 0 || epoch == plan.epochs || stops) {
                if group.isRoot { try checkpoint().write(to: plan.runFolder.checkpoint(member: member)) }
                lastCheckpointEpoch = epoch
            }
            if stops { break }
            if let halt = plan.haltAfterEpoch, epoch >= halt { break }
            if let limit = plan.maximumSteps, state.step >= limit { break }
        }
        if prints && keptEpoch != state.epoch {
            print("member \(member) keeps the weights of epoch \(keptEpoch), its lowest validation error (--keep best)")
        }
        try verifyChecksum(label: "the end of training")
    }

    func checkpoint() throws -> Checkpoint {
        guard let run = plan.run else { throw TrainingError("member \(member): checkpoints need the run's record (train through TrainingRun)") }
        return Checkpoint(header: .init(member: member, epoch: state.epoch, step: state.step, memberSeed: plan.memberSeed(member),
                                        groupSize: group.size, parameterCount: state.parameters.count,
                                        optimizer: state.optimizer.kind, learningRate: state.optimizer.learningRate, run: run,
                                        fit: state.fit),
                          parameters: state.parameters, optimizer: state.optimizer, bestParameters: state.bestParameters)
    }

    /// The epoch's validation error moves the fit policy on (`FitProgress.record`): a better
    /// epoch's parameters are kept under `--keep best`. True when `--patience` ends training.
    private func applyFitPolicy(_ metrics: EpochMetrics) -> Bool {
        let (improved, reduced) = state.fit.record(epoch: metrics.epoch, validationMSE: metrics.validationMSE, policy: plan.fitting)
        if improved && plan.fitting.keep == .best { state.bestParameters = state.parameters }
        if prints && reduced {
            let next = plan.fitting.schedule.learningRate(epoch: metrics.epoch + 1, base: plan.learningRate, reductions: state.fit.reductions)
            print("member \(member) epoch \(metrics.epoch): no lower validation error for a while; learning rate \(next) from here on")
        }
        if prints && state.fit.stopped {
            print("member \(member) stops after epoch \(metrics.epoch): no lower validation error in \(plan.fitting.patience) epochs "
                  + "(the best was epoch \(state.fit.bestEpoch ?? 0))")
        }
        return state.fit.stopped
    }

    /// The weights the member's model file holds: the best epoch's under `--keep best` (when a
    /// validation error picked one), else the last epoch's.
    var keptParameters: [Float] { state.bestParameters ?? state.parameters }

    /// The epoch whose weights `keptParameters` are.
    var keptEpoch: Int { state.bestParameters == nil ? state.epoch : state.fit.bestEpoch ?? state.epoch }

    /// Structure `index`'s target energy in standard units (every training structure has one:
    /// checked when the normalisation was fitted).
    func target(_ index: Int) -> Float {
        let normalisation = modelDescription.normalisation
        return Float(((structures.energy(index) ?? .nan) - normalisation.mean) / normalisation.scale)
    }

    /// One epoch: its global batches in the plan's order, then the group's training and
    /// validation errors.
    func trainEpoch(_ epoch: Int) throws -> EpochMetrics {
        let started = ContinuousClock.now
        var losses = StepLosses()
        let batches = plan.epochBatches(count: train.count, member: member, epoch: epoch)
        for (k, batch) in batches.enumerated() {
            if k + 1 < batches.count { samples.prefetch(batches[k + 1].filter(shard.owns).map { train[$0] }) }
            losses += try takeStep(batch)
            watchdog?.beat(.init(member: member, epoch: epoch, step: k + 1, steps: batches.count))
            if firstStepSeconds == nil { firstStepSeconds = secondsSinceStart() }
            if let limit = plan.maximumSteps, state.step >= limit { break }
        }
        let trainTotals = try group.allReduce([losses.sumSquared, losses.sumAbsolute], op: .sum)
        var validationTotals = try group.allReduce(evaluate(validation), op: .sum)
        // The root's sums on every rank, so the fit policy's decisions read the same bits everywhere (`FitPolicy`).
        try group.broadcast(&validationTotals, root: 0)
        // The rank that waited least after its backward is the one that finished backward last:
        // its wait is the all-reduce the others' backward did not hide, without the time ranks
        // spend waiting for a slower one (an upper bound, as the slowest rank changes by step).
        let leastWait = try group.allReduce(losses.reduceSeconds, op: .min)
        watchdog?.beat(.init(member: member, epoch: epoch, step: nil, steps: batches.count))
        let seconds = (ContinuousClock.now - started).seconds
        let scale = modelDescription.normalisation.scale
        let trainMSE = trainTotals[0] / Double(train.count) * scale * scale
        try checkLoss(normalisedMSE: trainTotals[0] / Double(train.count), validationSum: validationTotals[0], epoch: epoch)
        let validationCount = Double(validation.count)
        return EpochMetrics(
            member: member, epoch: epoch, trainMSE: trainMSE, trainMAE: trainTotals[1] / Double(train.count) * scale,
            validationMSE: validation.isEmpty ? nil : validationTotals[0] / validationCount * scale * scale,
            validationMAE: validation.isEmpty ? nil : validationTotals[1] / validationCount * scale,
            seconds: seconds, samplesPerSecond: Double(train.count) / max(seconds, 1e-9),
            allReduceShare: leastWait / max(seconds, 1e-9))
    }

    /// Per-structure sums of per-item outputs (normalised energies) of items laid out one
    /// structure after another.
    func predict(_ values: [Float], counts: [Int]) throws -> [Float] {
        let items = counts.reduce(0, +)
        let outputs = try values.withUnsafeBufferPointer { input in
            try state.parameters.withUnsafeBufferPointer { try network.forward(input.baseAddress!, items: items, parameters: $0.baseAddress!) }
        }
        return sumsPerStructure(outputs, itemCounts: counts)
    }

    /// Squared and absolute error sums over the samples of `list` this rank owns.
    private func evaluate(_ list: [Int]) throws -> [Double] {
        var sums: [Double] = [0, 0]
        // A batch at a time, so a streaming shard never holds more than one batch of samples.
        let mine = shard.mine(list)
        for start in stride(from: 0, to: mine.count, by: max(plan.batchSize, 1)) {
            let chunk = Array(mine[start..<min(start + max(plan.batchSize, 1), mine.count)])
            let encoded = try chunk.map(samples.sample)
            let predictions = try predict(encoded.flatMap(\.values), counts: encoded.map(\.itemCount))
            let errors = errorSums(predictions: predictions, targets: chunk.map(target))
            sums[0] += errors.sumSquared
            sums[1] += errors.sumAbsolute
        }
        return sums
    }

    /// All ranks must hold the same parameters: compare a checksum's minimum and maximum.
    func verifyChecksum(label: String) throws {
        guard group.size > 1 else { return }
        let sum = parameterChecksum(state.parameters)
        let low = try group.allReduce(sum, op: .min), high = try group.allReduce(sum, op: .max)
        guard low == high else {
            throw TrainingError("member \(member): parameters differ across ranks at \(label) (checksums \(low) and \(high))")
        }
    }

    private func report(_ m: EpochMetrics) {
        var line = "member \(m.member) epoch \(m.epoch)/\(plan.epochs)  train MAE \(format(m.trainMAE)) RMSE \(format(m.trainRMSE)) eV"
        if let v = m.validationMAE, let r = m.validationRMSE { line += "  val MAE \(format(v)) RMSE \(format(r)) eV" }
        line += "  \(Int(m.samplesPerSecond)) samples/s  all-reduce \(Int((m.allReduceShare * 100).rounded()))%"
        if let progress {
            progress.epochFinished(member: m.member, epoch: m.epoch, seconds: m.seconds, line: line)
        } else {
            print(line)
            fflush(nil)
        }
    }

    private func format(_ x: Double) -> String { String(format: "%.4f", x) }
}

/// An order-dependent checksum of the parameter bits: equal buffers give equal sums.
func parameterChecksum(_ parameters: [Float]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for value in parameters { hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01B3 }
    return hash
}
