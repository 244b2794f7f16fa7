import Basics
import Foundation
import MPI
import Structures

/// Opens a data set for a job: an extxyz file is indexed once, in parallel (each rank scans its
/// byte range, the pieces are gathered to every rank and chained into the frame index, see
/// `ExtXYZIndexPiece`), then every rank parses a contiguous share of the
/// frames, so each frame is checked once and errors still name file, line and field; energies
/// and species are shared with every rank. Each rank later parses only the frames it trains on.
/// Site tables are small and are read whole.
public func openStructures(_ source: StructureSource, world: Communicator) throws -> (store: StructureStore, table: SiteTable?) {
    guard source.resolvedFormat == .extxyz else {
        let loaded = try source.load()
        return (LoadedStructures(loaded.structures, file: source.path), loaded.table)
    }
    try source.checkReadableAsExtXYZ()
    let index = try parallelFrameIndex(path: source.path, world: world)

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

/// The frame index of an extxyz file, every rank scanning one byte range; the same on every
/// rank, and the same as `ExtXYZFrameIndex.scan` gives (or its error, naming file and line).
public func parallelFrameIndex(path: String, world: Communicator) throws -> ExtXYZFrameIndex {
    // Rank 0's size for everyone, so the ranges tile one file length.
    let size = try world.broadcastArray(world.rank == 0 ? [try ExtXYZFrameIndex.fileSize(path: path)] : [], root: 0)[0]
    let mine = try ExtXYZFrameIndex.scanPiece(path: path, range: ExtXYZFrameIndex.byteRange(piece: world.rank, of: world.size, size: size))
    let summary = try world.allGatherv([mine.lineCount, mine.lastTextLine, mine.overflowed ? 1 : 0, Int64(mine.offsets.count)],
                                       counts: Array(repeating: 4, count: world.size))
    let counts = (0..<world.size).map { Int(summary[4 * $0 + 3]) }
    let pieces = GatheredPieces(
        summaries: (0..<world.size).map { r in
            .init(lineCount: summary[4 * r], lastTextLine: summary[4 * r + 1], overflowed: summary[4 * r + 2] != 0, entries: counts[r])
        },
        offsets: try world.allGatherv(mine.offsets, counts: counts), lines: try world.allGatherv(mine.lines, counts: counts),
        values: try world.allGatherv(mine.values, counts: counts))
    return try ExtXYZFrameIndex.assemble(path: path, pieces: pieces, size: size)
}
