import Basics
import Decomposition
import Networks
import Structures
import Training

/// The swap decomposition's forward passes shared out over the ranks (issue 22, item 5): every
/// rank reads the same structures chosen for swaps (`SwapWork`) and measures its contiguous
/// block of them with every member; rank 0 gets every measurement, to combine in structure
/// order (`writeRunOutputs`), so the tables are the same on any number of ranks. Nil on the
/// other ranks, and on every rank for a kind explained without swaps. A collective: every rank
/// calls it. Rank 0's meter counts its own block, which stands for everyone's.
public func measureSwapsShared(members: [EnergyModel], structures: StructureStore, sharing: WorkSharing) throws -> SwapMeasurements? {
    guard let kind = members.first?.modelDescription.architecture.kind, kind.decompositionMethod != .readOff else { return nil }
    let work = try SwapWork(structures: structures)
    let blocks = sharing.blocks(of: work.count)
    if sharing.rank == 0, sharing.size > 1 {
        let shares = blocks.map { $0.isEmpty ? "none" : "\($0.lowerBound + 1)–\($0.upperBound)" }
        print("swaps: \(work.count) structures × \(members.count) members shared out over \(sharing.size) ranks "
              + "(structures \(shares.joined(separator: ", ")))")
    }
    let meter = sharing.rank == 0 ? ProgressMeter(title: "decomposing: swaps" + (sharing.size > 1 ? " (rank 0's share)" : ""),
                                                  total: (blocks.first?.count ?? 0) * members.count, unit: "structures × members") : nil
    defer { meter?.finish() }
    let measurements = try sharing.gatherBlocks(count: work.count) { try work.measure(members, range: $0, progress: meter) }
    return measurements.map { SwapMeasurements(work: work, measurements: $0) }
}
