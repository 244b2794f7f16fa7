import Basics
import Foundation
import MPI
import Structures

/// Opens a data set for a job: an extxyz file is indexed once (world rank 0 finds where each
/// frame starts; the index is broadcast), then every rank parses a contiguous share of the
/// frames, so each frame is checked once and errors still name file, line and field; energies
/// and species are shared with every rank. Each rank later parses only the frames it trains on.
/// Site tables are small and are read whole.
public func openStructures(_ source: StructureSource, world: Communicator) throws -> (store: StructureStore, table: SiteTable?) {
    guard source.resolvedFormat == .extxyz else {
        let loaded = try source.load()
        return (LoadedStructures(loaded.structures), loaded.table)
    }
    var offsets: [Int64] = [], lines: [Int64] = []
    if world.rank == 0 {
        let index = try ExtXYZFrameIndex.scan(path: source.path)
        (offsets, lines) = (index.offsets, index.lines)
    }
    offsets = try world.broadcastArray(offsets, root: 0)
    lines = try world.broadcastArray(lines, root: 0)
    let index = ExtXYZFrameIndex(file: source.path, offsets: offsets, lines: lines)

    // This rank's contiguous share, parsed in blocks so memory stays bounded.
    let count = index.frameCount
    let shares = (0..<world.size).map { r in (count * r / world.size)..<(count * (r + 1) / world.size) }
    let share = shares[world.rank]
    var energies: [Double] = [], species = Set<String>()
    var start = share.lowerBound
    while start < share.upperBound {
        let block = start..<min(start + 4096, share.upperBound)
        for structure in try index.frames(block, options: source.extxyzOptions) {
            energies.append(structure.energy ?? .nan)
            species.formUnion(structure.symbols)
        }
        start = block.upperBound
    }
    let allEnergies = try world.allGatherv(energies, counts: shares.map(\.count))
    let allSpecies = try world.broadcast(try world.gather(species.sorted(), root: 0).map { Set($0.joined()).sorted() }, root: 0)
    return (IndexedExtXYZ(index: index, options: source.extxyzOptions, energies: allEnergies,
                          species: PeriodicTable.inTableOrder(allSpecies)), nil)
}
