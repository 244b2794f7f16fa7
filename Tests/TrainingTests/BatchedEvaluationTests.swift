import Basics
import Foundation
import Images
import Testing
@testable import Networks
@testable import Structures
@testable import Training

/// Evaluation in passes of many structures' items (`BatchedEvaluation`) against one structure
/// per forward pass, for the image models whose evaluation it speeds up.
struct BatchedEvaluationTests {
    /// Clusters of varying size: 200 of them make several passes, an atomic pass ending inside
    /// a structure (checked below, so the test does not pass by having one pass only).
    static let structures = LennardJonesClusters.generate(count: 200, seed: 11)

    /// Two members of `kind` with different weights; ryczko at G = 32 (about 32 images a
    /// pass), atomic on square patches (64 atoms a pass).
    static func members(_ kind: ModelKind) throws -> [EnergyModel] {
        var options = ModelOptions()
        options.raster = RasterSettings(gridSize: 32, extent: 6, sigma: 0.3)
        options.ryczkoBlocks = 2
        options.ryczkoDense = 16
        options.atomicFilters = 4
        let (architecture, encoding) = try makeModel(kind, for: structures, options: options)
        let network = try Network(architecture)
        return try (0..<2).map { m in
            try EnergyModel(modelDescription: ModelDescription(architecture: architecture, encoding: encoding,
                                                               normalisation: TargetNormalisation(mean: -3, scale: 0.7)),
                            parameters: network.initialParameters(seed: UInt64(20 + m)))
        }
    }

    /// Every structure through `BatchedEvaluation` in the order given: [position][member] → contributions.
    static func batched(_ encoded: [EncodedStructure], members: [EnergyModel]) throws -> [[[Double]]] {
        var batch = try BatchedEvaluation(members: members)
        var done: [(tag: Int, contributions: [[Double]])] = []
        for (position, sample) in encoded.enumerated() { done += try batch.add(sample, tag: position) }
        done += try batch.finish()
        #expect(done.map(\.tag) == Array(encoded.indices), "structures come back once each, in the order added")
        return done.map(\.contributions)
    }

    /// Batched contributions have today's shape (one per item: per atom for atomic, one per
    /// structure for ryczko) and equal one-structure-at-a-time evaluation to Float rounding:
    /// within 1e-4 standard units (1e-4·scale eV) per item. Misplaced items between structures
    /// would differ by whole outputs.
    @Test(arguments: [ModelKind.ryczko, .atomic])
    func batchedEvaluationMatchesOneStructureAtATime(kind: ModelKind) throws {
        let members = try Self.members(kind)
        let encoded = try Self.structures.map(members[0].encoder.encode)
        let items = encoded.map(\.itemCount).reduce(0, +)
        let passItems = members[0].network.evaluationItems
        #expect(passItems % members[0].network.itemMultiple == 0 && passItems >= members[0].network.itemMultiple)
        #expect(items > passItems && items % passItems != 0, "\(items) items in passes of \(passItems): several passes, the last padded")
        if kind == .atomic {
            let starts = Set(encoded.map(\.itemCount).reduce(into: [0]) { $0.append($0.last! + $1) })
            #expect(stride(from: passItems, to: items, by: passItems).contains { !starts.contains($0) }, "a pass ends inside a structure")
        }
        let batched = try Self.batched(encoded, members: members)
        var largest = 0.0
        for (i, sample) in encoded.enumerated() {
            for (m, member) in members.enumerated() {
                let single = try member.contributions(sample)
                #expect(batched[i][m].count == single.count && single.count == (kind == .ryczko ? 1 : Self.structures[i].count),
                        "structure \(i), member \(m)")
                for (a, b) in zip(batched[i][m], single) { largest = max(largest, abs(a - b) / member.modelDescription.normalisation.scale) }
            }
        }
        print("\(kind): \(items) items in passes of \(passItems); largest difference from one structure a pass \(largest) standard units")
        #expect(largest <= 1e-4, "\(kind): batched and single evaluation differ by \(largest) standard units")
    }

    /// A structure's contributions do not depend on the structures that share its passes, bit
    /// for bit: the property that lets `predict` and `decompose` (shared out by `Shard`)
    /// reproduce training's evaluation (shared out by `EvaluationOwners`) exactly.
    @Test(arguments: [ModelKind.ryczko, .atomic])
    func aStructuresContributionsDoNotDependOnItsCompany(kind: ModelKind) throws {
        let members = try Self.members(kind)
        let encoded = try Self.structures.map(members[0].encoder.encode)
        let inOrder = try Self.batched(encoded, members: members)
        // Another rank's share: every third structure, last first, so each sits elsewhere in its passes.
        let share = Array(stride(from: 1, to: encoded.count, by: 3).reversed())
        let alone = try Self.batched(share.map { encoded[$0] }, members: members)
        for (position, index) in share.enumerated() {
            #expect(alone[position] == inOrder[index], "structure \(index)")
        }
    }

    /// Structures without items (atomic: dummy atoms only) complete with no contributions, in order.
    @Test func structuresWithoutItemsComeBackEmptyInOrder() throws {
        let members = try Self.members(.atomic)
        let encoded = try Self.structures.prefix(5).map(members[0].encoder.encode)
        let empty = EncodedStructure(values: [], labels: [], elements: [])
        let mixed = [empty, encoded[0], empty, encoded[1], encoded[2], empty]
        let batched = try Self.batched(mixed, members: members)
        #expect(batched.map { $0.map(\.count) } == mixed.map { Array(repeating: $0.itemCount, count: members.count) })
        #expect(batched[3] == (try Self.batched([encoded[1]], members: members))[0])
    }

    /// Members of different architectures cannot share passes: refused, not mixed up.
    @Test func membersOfDifferentArchitecturesAreRefused() throws {
        #expect(throws: NetworkError.self) { try BatchedEvaluation(members: [try Self.members(.ryczko)[0], try Self.members(.atomic)[0]]) }
    }
}
