import ArgumentParser
import Foundation
import MPI
import Networks
import Structures
import Training

/// `sitelens check`: `train`'s dry run. The same options, read and decided as `train` would
/// (the start line, what `auto` chose, the patch-reach warning), then what the data holds and
/// what training would cost; nothing is trained and no folder is made.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dry run of `train` with the same options: the data, the automatic choices, memory and work.",
        discussion: "Counts per element and site label, the energy range, what auto chose, the model's size, "
            + "each rank's samples in memory and the samples training would process. Trains nothing, writes nothing.")

    @OptionGroup var train: Train

    func run() throws {
        try withMPI { mpi in
            let world = mpi.world
            let source = try train.data.source(requireEnergy: true)
            let (structures, table) = try openStructures(source, world: world)
            let leading = LeadingStructures(structures)
            let (plan, notes) = try train.plan(for: structures, leading: leading)
            try train.announce(plan, notes: notes, structures: structures, leading: leading, skipped: table?.skippedSummary,
                               source: source.path, world: world)
            guard world.rank == 0 else { return }
            try DataSummary(structures).lines.forEach { print($0) }
            let (architecture, encoding) = try makeModel(plan.kind, for: structures, options: plan.modelOptions)
            let parameters = try Network(architecture).parameterCount
            let groups = min(plan.ensemble, world.size)
            let trainCount = plan.split(count: structures.count, member: 0).train.count
            let perRank = structures.count / max(world.size / groups, 1)
            let bytes = try estimatedSampleBytes(structures, encoding: encoding, count: perRank)
            print("model: \(parameters) parameters per member (\(megabytes(4 * Double(parameters) * 4)) MB with Adam's state and gradients)")
            print("memory: ~\(megabytes(Double(bytes))) MB of encoded samples per rank if cached (--image-cache; \(perRank) structures a rank)")
            print("work: \(plan.ensemble) member\(plan.ensemble == 1 ? "" : "s") × \(plan.epochs) epochs × \(trainCount) training structures "
                  + "= " + String(format: "%.0f", Double(plan.ensemble) * Double(plan.epochs) * Double(trainCount)) + " samples")
        }
    }

    private func megabytes(_ bytes: Double) -> String { String(format: "%.1f", bytes / Double(1 << 20)) }
}
