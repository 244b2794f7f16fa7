import Basics
import Foundation

/// Where a member continues a run from: its checkpoint, checked against the run (`Checkpoint.verify`),
/// and the metrics of every epoch up to it, which must all be in the member's log (a checkpoint
/// that claims epochs no log records did not come from this run's training).
struct ResumePoint {
    let checkpoint: Checkpoint
    let history: [EpochMetrics]

    /// Member `member`'s resume point in `plan.resumeFrom`, for the run `run` (the resuming run's record).
    static func load(member: Int, plan: TrainingPlan, run: RunRecord, parameterCount: Int, structureCount: Int,
                     note: (String) -> Void) throws -> ResumePoint {
        guard let folder = plan.resumeFrom else { throw TrainingError("member \(member): there is no run to resume") }
        let url = folder.checkpoint(member: member)
        let checkpoint = try Checkpoint.read(from: url)
        let trainCount = plan.split(count: structureCount, member: member).train.count
        let width = max(1, min(plan.batchSize, trainCount))
        try checkpoint.verify(file: url.path, member: member, run: run, epochs: plan.epochs, parameterCount: parameterCount,
                              batchesPerEpoch: (trainCount + width - 1) / width)
        let epoch = checkpoint.header.epoch
        let history = try MetricsLog.history(of: member, in: folder, through: epoch, note: note)
        guard history.map(\.epoch) == Array(1...epoch) else {
            let logged = history.isEmpty ? "none" : "\(history.count) (the last \(history.last?.epoch ?? 0))"
            throw InputError(file: url.path, field: "header.epoch",
                             "\(epoch), but the run's metrics log records epochs 1...\(epoch) as \(logged): the checkpoint is not this run's")
        }
        return ResumePoint(checkpoint: checkpoint, history: history)
    }
}
