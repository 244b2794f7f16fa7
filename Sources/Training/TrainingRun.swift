import Basics
import Foundation
import MPI
import Networks
import Structures

/// A training run in its folder, from claim to completion: world rank 0 takes the folder
/// (`RunFolder.claim`), checks a resumed run's record, and marks the record complete only
/// after every member and output is written. The one place the run-folder rules are applied.
public final class TrainingRun {
    /// The plan as trained: with `overwrite`, its run folder is the replacement being built.
    public let plan: TrainingPlan
    /// Where the run ends up once `finish()` has run (the folder the user named).
    public let destination: RunFolder
    public let model: (Architecture, InputEncoding)
    let world: Communicator
    private var lock: RunLock?
    private var replacementLocks: (target: RunLock, replacement: RunLock)?
    private var record: RunRecord?

    /// Claims the folder (rank 0) and records what defines the run. `overwrite` replaces an
    /// earlier SiteLens run in the folder, and only once this one has finished: it is built in
    /// the folder's `replacement` (on every rank, so checkpoints land there too). `inputs` are
    /// the files the run reads, which a folder to overwrite must not hold.
    public init(world: Communicator, plan: TrainingPlan, structures: StructureStore, dataFile: URL,
                overwrite: Bool, inputs: [URL] = []) throws {
        self.world = world
        destination = plan.runFolder
        // Checked before the folder is claimed, so run.json never records fractions it refuses on read.
        if let (option, problem) = TrainingPlan.fractionProblem(validation: plan.validationFraction, test: plan.testFraction) {
            throw TrainingError("\(option) \(problem)")
        }
        var plan = plan
        if overwrite { plan.runFolder = destination.replacement }
        try plan.checkSplit(count: structures.count)
        model = try makeModel(plan.kind, for: structures, options: plan.modelOptions)
        var record: RunRecord?
        let provenance = try RunProvenance.gathered(world: world, configFile: plan.configFile)
        if world.rank == 0 {
            let folder = plan.runFolder
            if overwrite {
                let locks = try destination.claimForReplacement(inputs: [dataFile] + inputs) { earlier in
                    do { _ = try RunRecord.read(from: earlier) }
                    catch { throw RunFolderError("--overwrite refuses \(earlier.path): it is not a SiteLens run (\(error))") }
                }
                replacementLocks = locks
                lock = locks.replacement
            } else {
                lock = try folder.claim(plan.resumeFrom == folder ? .resume : .fresh)
            }
            var made = RunRecord(plan: plan, architecture: model.0, encoding: model.1,
                                 dataFile: dataFile.path, dataHash: try contentHash(of: dataFile), structureCount: structures.count)
            if let resume = plan.resumeFrom {
                try Self.checkResume(&made, from: resume, plan: plan, architecture: model.0, structureCount: structures.count)
            }
            made.provenance = provenance
            // Only now, with every check passed, does the run change: a refused resume leaves a
            // finished run finished.
            made.complete = false
            try made.write(to: folder)
            record = made
        }
        plan.run = try world.broadcast(record, root: 0)
        self.plan = plan
        self.record = record
    }

    /// A resume continues the run in `resume`: the same settings (`RunRecord.mismatches`) and
    /// every member's checkpoint sound (`ResumePoint`), checked before anything is written. A
    /// changed learning rate is allowed, recorded in `record` and said.
    private static func checkResume(_ record: inout RunRecord, from resume: RunFolder, plan: TrainingPlan,
                                    architecture: Architecture, structureCount: Int) throws {
        let earlier = try RunRecord.read(from: resume)
        let mismatches = record.mismatches(resuming: earlier)
        guard mismatches.isEmpty else {
            throw TrainingError("--resume \(resume.path) continues another run:\n  " + mismatches.joined(separator: "\n  "))
        }
        let parameterCount = try Network(architecture).parameterCount
        let reached = try (0..<plan.ensemble).map { member in
            try ResumePoint.load(member: member, plan: plan, run: record, parameterCount: parameterCount,
                                 structureCount: structureCount, note: { _ in }).checkpoint.header.epoch
        }
        record.earlierLearningRates = earlier.earlierLearningRates
        record.earlierParts = (earlier.earlierParts ?? []) + [earlier.provenance].compactMap { $0 }
        if earlier.learningRate != record.learningRate {
            record.earlierLearningRates.append(.init(learningRate: earlier.learningRate, throughEpoch: reached))
            print("note: --learning-rate \(record.learningRate) from here on; the run trained with \(earlier.learningRate) "
                  + "through epoch \(reached.map(String.init).joined(separator: ", ")) (recorded in \(RunFolder.Output.record.rawValue) as earlierLearningRates)")
        }
    }

    /// Trains the ensemble (each member's metrics logged as its epochs finish); rank 0 saves the
    /// members and the metrics of every epoch.
    public func train(structures: StructureStore) throws -> TrainedEnsemble {
        let trained = try trainEnsemble(world: world, plan: plan, structures: structures, model: model, logsMetrics: true)
        if world.rank == 0 {
            for (m, member) in trained.members.enumerated() {
                try member.save(to: plan.runFolder.modelFolder, name: RunFolder.memberName(m))
            }
            try MetricsLog.write(trained.metrics, to: plan.runFolder)
        }
        return trained
    }

    /// Records which members the ensemble kept and how its interval is calibrated (written to
    /// run.json by `finish`).
    public func record(_ check: EnsembleCheck) {
        record?.excludedMembers = check.excluded
        record?.calibration = check.calibration
    }

    /// Each structure's role in this run: test set, or each member's train/validation.
    public func roles(count: Int) -> DataRoles { plan.roles(count: count) }

    /// Marks the run complete (when it was not halted early), puts a complete replacement in
    /// its destination's place, and releases the folder. A halted replacement stays where it
    /// was built, as an interrupted one does, and the old run stays whole.
    public func finish() throws {
        guard var record else { return }
        record.complete = plan.haltAfterEpoch.map { $0 >= plan.epochs } ?? true
        record.provenance?.finished = RunProvenance.now()
        try record.write(to: plan.runFolder)
        if let replacementLocks, record.complete {
            try destination.replace(with: plan.runFolder, locks: replacementLocks)
        } else {
            lock?.release()
        }
    }
}

/// The members of a finished run, in member order, without those it left out (run.json
/// `excludedMembers`). Refuses a run that did not complete or whose saved members are not the
/// ones its record names, so an ensemble is never mixed from two runs.
public func loadTrainedEnsemble(from folder: RunFolder) throws -> [EnergyModel] {
    let record = try RunRecord.read(from: folder)
    guard record.complete else {
        throw RunFolderError("the run in \(folder.path) did not finish (interrupted, halted or still training); continue it with --resume")
    }
    let saved = folder.savedMembers()
    guard saved == Array(0..<record.ensemble) else {
        throw RunFolderError("\(folder.modelFolder.path) holds members \(saved), but the run trained members 0..<\(record.ensemble)")
    }
    let members = try saved.map { try EnergyModel.load(from: folder.modelFolder, name: RunFolder.memberName($0)) }
    for (m, member) in members.enumerated() where member.modelDescription.architecture != record.architecture || member.modelDescription.encoding != record.encoding {
        throw RunFolderError("\(folder.modelFolder.path)/\(RunFolder.memberName(m)) is not a member of the run recorded in \(folder.file(.record).path)")
    }
    let excluded = Set((record.excludedMembers ?? []).map(\.member))
    return members.enumerated().filter { !excluded.contains($0.offset) }.map(\.element)
}

extension TrainingPlan {
    /// Which structures each member trained and validated on, and the ensemble's test set.
    public func roles(count: Int) -> DataRoles {
        DataRoles(count: count, test: testSet(count: count), members: (0..<ensemble).map { split(count: count, member: $0) })
    }
}

/// The roles of `structures` read from `dataFile` for the run in `folder`: its own roles when
/// they are the run's data (same content, same count), else all unseen.
public func dataRoles(of folder: RunFolder, dataFile: URL, count: Int) throws -> DataRoles {
    let record = try RunRecord.read(from: folder)
    guard record.structureCount == count, try contentHash(of: dataFile) == record.dataHash else { return .unseen(count: count) }
    return record.splitPlan.roles(count: count)
}
