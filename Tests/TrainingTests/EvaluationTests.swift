import Foundation
import Images
import Testing
@testable import Networks
@testable import Structures
@testable import Training

/// A store that counts how often each structure is read: every encoding in the sample sources
/// and in evaluation reads its structure exactly once, so a count of 2 is a second rasterising.
final class CountingStore: StructureStore, @unchecked Sendable {
    let base: LoadedStructures
    private let lock = NSLock()
    private var counts: [Int]

    init(_ structures: [Structure]) {
        base = LoadedStructures(structures)
        counts = Array(repeating: 0, count: structures.count)
    }

    var count: Int { base.count }
    var species: [String] { base.species }
    func energy(_ index: Int) -> Double? { base.energy(index) }
    func structure(_ index: Int) throws -> Structure {
        lock.lock()
        counts[index] += 1
        lock.unlock()
        return try base.structure(index)
    }

    /// The reads so far, and a fresh count from here.
    func takeCounts() -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        let taken = counts
        counts = Array(repeating: 0, count: counts.count)
        return taken
    }
}

/// Evaluation after training uses training's ownership and sample sources (one process, no MPI:
/// every rank of a world is played in turn).
struct EvaluationTests {
    static let structures = LennardJonesClusters.generate(count: 30, seed: 6)

    /// Small ryczko members with different weights.
    func members(_ count: Int) throws -> [EnergyModel] {
        var options = ModelOptions()
        options.raster = RasterSettings(gridSize: 12, extent: 5, sigma: 0.3)
        options.ryczkoBlocks = 1
        options.ryczkoDense = 4
        let (architecture, encoding) = try makeModel(.ryczko, for: Self.structures, options: options)
        let network = try Network(architecture)
        return try (0..<count).map { m in
            try EnergyModel(modelDescription: ModelDescription(architecture: architecture, encoding: encoding,
                                                          normalisation: TargetNormalisation(mean: -1, scale: 2)),
                            parameters: network.initialParameters(seed: UInt64(m + 1)))
        }
    }

    /// Every (world size, ensemble) pair: each structure is evaluated by one rank with every
    /// member, and a structure the rank's cached shard holds is not encoded again. Fails if any
    /// structure were encoded twice in evaluation, or evaluated twice, or not at all, or its
    /// contributions differed in any bit from those of its direct encoding.
    @Test(arguments: [(1, 1), (1, 2), (2, 1), (4, 3), (3, 2), (2, 5)])
    func evaluationEncodesEachStructureOnceAndNothingAlreadyCached(worldSize: Int, ensemble: Int) throws {
        var plan = TrainingPlan()
        plan.seed = 9
        plan.ensemble = ensemble
        plan.testFraction = 0.2
        plan.validationFraction = 0.2
        let members = try members(ensemble)
        let count = Self.structures.count
        let layout = GroupLayout(worldSize: worldSize, ensemble: ensemble)
        let owners = EvaluationOwners(count: count, layout: layout) { plan.split(count: count, member: $0) }
        // Direct encodings of every structure, evaluated together in index order: a grouping other
        // than any rank's share, so equal contributions also say the grouping changes nothing.
        let direct = try BatchedEvaluationTests.batched(Self.structures.map(members[0].encoder.encode), members: members)
        for cached in [true, false] {
            var evaluatedBy = Array(repeating: 0, count: count)
            var encodings = Array(repeating: 0, count: count)
            for rank in 0..<worldSize {
                let store = CountingStore(Self.structures)
                let shard = layout.shard(ofWorldRank: rank)
                let (train, validation) = plan.split(count: count, member: layout.lastMember(ofGroup: layout.group(ofWorldRank: rank)))
                let indices = shard.mine(train) + shard.mine(validation)
                let source: SampleSource = cached ? try CachedShard(structures: store, indices: indices, encoder: members[0].encoder)
                                                  : StreamingShard(structures: store, encoder: members[0].encoder)
                // A bootstrap resample lists some structures twice; the cache encodes each once.
                #expect(store.takeCounts().reduce(0, +) == (cached ? Set(indices).count : 0))
                let mine = owners.structures(of: rank)
                // Whatever the owner counts as kept is in its shard (a cached shard throws otherwise).
                #expect(mine.filter(\.kept).allSatisfy { indices.contains($0.index) })
                for evaluated in try evaluate(mine, members: members, kept: source, structures: store) {
                    evaluatedBy[evaluated.index] += 1
                    #expect(evaluated.contributions == direct[evaluated.index], "structure \(evaluated.index)")
                }
                for (index, reads) in store.takeCounts().enumerated() { encodings[index] += reads }
            }
            #expect(evaluatedBy == Array(repeating: 1, count: count), "\(worldSize) ranks, \(ensemble) members: \(evaluatedBy)")
            // Cached: only what no rank held is encoded, once. Streaming: each structure once.
            let expected = (0..<count).map { cached && owners.kept[$0] ? 0 : 1 }
            #expect(encodings == expected, "\(worldSize) ranks, \(ensemble) members, cached \(cached): \(encodings)")
            #expect(owners.kept.contains(true) && owners.kept.contains(false), "the test set is never kept")
        }
    }

    /// The trainer's pattern (prefetch the next step's samples, then ask for this step's): each
    /// sample is encoded once, and equals its direct encoding.
    @Test func aStreamingShardEncodesEachSampleItIsAskedForOnce() throws {
        let store = CountingStore(Self.structures)
        let encoder = try members(1)[0].encoder
        let shard = StreamingShard(structures: store, encoder: encoder)
        let batches = stride(from: 0, to: 30, by: 7).map { Array($0..<min($0 + 7, 30)) }
        for (k, batch) in batches.enumerated() {
            if k + 1 < batches.count { shard.prefetch(batches[k + 1]) }
            for index in batch {
                #expect(try shard.sample(index).values == encoder.encode(Self.structures[index]).values)
            }
        }
        #expect(store.takeCounts() == Array(repeating: 1, count: 30))
    }

    /// The size probe of `--image-cache auto` hands its samples to the cache.
    @Test func theAutoProbeIsNotEncodedAgain() throws {
        let store = CountingStore(Self.structures)
        let source = try makeSampleSource(structures: store, indices: Array(0..<30), encoder: try members(1)[0].encoder,
                                          choice: .auto, budget: Int.max, describe: { _ in })
        #expect(source is CachedShard)
        #expect(store.takeCounts() == Array(repeating: 1, count: 30))
    }
}
