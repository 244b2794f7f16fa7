import Basics
import Foundation
import Testing
import TestSupport
@testable import Decomposition
import Networks
import Reports
import Structures

/// The swap decomposition's seam (issue 22, item 5): `SwapWork` measures any range of the
/// swapped structures, `SiteDecomposer.swaps(_:measured:)` combines. However the range is split
/// (as ranks split it), the tables are the same bit for bit as measuring it in one piece.
struct SwapSharingTests {
    /// `count` positions in `parts` contiguous pieces, sizes differing by at most one.
    func pieces(_ count: Int, _ parts: Int) -> [Range<Int>] {
        (0..<parts).map { p in (p * count / parts)..<((p + 1) * count / parts) }
    }

    /// The bytes of every table `RunReport.write` makes from a decomposition, by file name.
    func writtenTables(_ decomposition: Decomposition) throws -> [String: Data] {
        let folder = RunFolder(try temporaryFolder("sitelens-swap-sharing"))
        try RunReport.write(decomposition, to: folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".csv") || $0.hasSuffix(".json") }
        return try Dictionary(uniqueKeysWithValues: names.map { ($0, try Data(contentsOf: folder.url.appendingPathComponent($0))) })
    }

    @Test(arguments: [ModelKind.ryczko, .atomic])
    func splittingTheSwapsGivesTheSameTablesBitForBit(kind: ModelKind) throws {
        let structures = try templateStructures(7)
        let store = LoadedStructures(structures)
        let members = try (0..<2).map { try randomMember(kind, structures: structures, seed: UInt64($0 + 70)) }
        let whole = try SiteDecomposer.swaps(members, structures: store)
        let work = try SwapWork(structures: store)
        #expect(work.count == 7 && !whole.entries.isEmpty)
        let wholeTables = try writtenTables(whole)
        #expect(wholeTables.keys.contains(RunFolder.Output.decompositionCSV.rawValue) && wholeTables.keys.contains(RunFolder.Output.siteInfluenceCSV.rawValue))
        for parts in [2, 3] {
            // Measured piece by piece, handed over last piece first: the combine puts them in order.
            let measurements = try pieces(work.count, parts).reversed().flatMap { try work.measure(members, range: $0) }
            let combined = try SiteDecomposer.swaps(members, measured: SwapMeasurements(work: work, measurements: measurements))
            #expect(combined.entries == whole.entries, "\(kind), \(parts) parts")
            #expect(combined.summaries == whole.summaries && combined.notes == whole.notes && combined.method == whole.method)
            #expect(try writtenTables(combined) == wholeTables, "\(kind), \(parts) parts")
        }
    }

    @Test func aMemberSubsetOfTheMeasurementsIsThoseMembersDecomposition() throws {
        let structures = try templateStructures(5)
        let store = LoadedStructures(structures)
        let members = try (0..<3).map { try randomMember(.ryczko, structures: structures, seed: UInt64($0 + 80)) }
        let work = try SwapWork(structures: store)
        let all = SwapMeasurements(work: work, measurements: try work.measure(members, range: 0..<work.count))
        let kept = try SiteDecomposer.swaps([members[0], members[2]], measured: try all.members([0, 2]))
        let direct = try SiteDecomposer.swaps([members[0], members[2]], structures: store)
        #expect(kept.entries == direct.entries && kept.summaries == direct.summaries)
        // The ensemble's decomposition takes measured swaps in place of measuring them.
        let contributions = try members.map { member in try structures.map { try member.contributions(try member.encoder.encode($0)) } }
        let viaDecompose = try SiteDecomposer.decompose(members, structures: store, contributions: contributions, measured: all)
        #expect(viaDecompose.entries == (try SiteDecomposer.swaps(members, structures: store)).entries)
        #expect(throws: DecompositionError.self) { try all.members([3]) }
    }

    @Test func incompleteOrMismatchedMeasurementsAreRefused() throws {
        let structures = try templateStructures(4)
        let store = LoadedStructures(structures)
        let members = [try randomMember(.ryczko, structures: structures, seed: 90)]
        let work = try SwapWork(structures: store)
        let measured = try work.measure(members, range: 0..<work.count)
        #expect(throws: DecompositionError.self) {
            try SiteDecomposer.swaps(members, measured: SwapMeasurements(work: work, measurements: Array(measured.dropLast())))
        }
        #expect(throws: DecompositionError.self) {
            try SiteDecomposer.swaps(members + members, measured: SwapMeasurements(work: work, measurements: measured))
        }
        var short = measured
        short[1].energies[0].removeLast()
        #expect(throws: DecompositionError.self) { try SiteDecomposer.swaps(members, measured: SwapMeasurements(work: work, measurements: short)) }
        #expect(throws: DecompositionError.self) { try work.measure(members, range: 0..<(work.count + 1)) }
    }
}
