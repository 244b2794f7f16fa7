import Foundation
import Testing
import Images
import Structures

/// A store that counts how often each structure is read.
private final class CountingStore: StructureStore, @unchecked Sendable {
    let structures: [Structure]
    private let lock = NSLock()
    private var readCounts: [Int: Int] = [:]

    init(_ structures: [Structure]) { self.structures = structures }

    var count: Int { structures.count }
    var species: [String] { PeriodicTable.inTableOrder(structures.flatMap(\.symbols)) }
    func energy(_ index: Int) -> Double? { structures[index].energy }

    func structure(_ index: Int) throws -> Structure {
        lock.withLock { readCounts[index, default: 0] += 1 }
        return structures[index]
    }

    var reads: [Int: Int] { lock.withLock { readCounts } }
}

/// The checks at the start of an `atomic` run (stacked atoms, the interaction range) look at the
/// same leading structures, and each is read once for both.
struct LeadingStructuresTests {
    /// Two Cu atoms `gap` Å apart in x, an O atom 1.5 Å above the first.
    func pair(_ gap: Double) -> Structure {
        Structure(symbols: ["Cu", "Cu", "O"], positions: [SIMD3(0, 0, 0), SIMD3(gap, 0, 0), SIMD3(0.05, 0, 1.5)])
    }

    @Test func theSurveyAndTheRangeEstimateReadEachLeadingStructureOnce() throws {
        let store = CountingStore((0..<(LeadingStructures.count + 50)).map { pair(2 + Double($0 % 3) * 0.1) })
        let leading = LeadingStructures(store)
        let survey = try ProjectionOverlap.survey(leading, sigma: 0.2)
        let range = try InteractionRange.estimate(leading)
        #expect(survey.sampled == LeadingStructures.count && survey.anySpecies.structures == LeadingStructures.count)
        let nearest = (0.05 * 0.05 + 1.5 * 1.5).squareRoot()  // each structure's median: Cu to the O above it
        #expect(range.map { abs($0 - InteractionRange.nearestNeighbourFactor * nearest) < 1e-9 } == true)
        // Each of the first `count` structures read exactly once; none after them.
        #expect(store.reads.count == LeadingStructures.count && store.reads.values.allSatisfy { $0 == 1 })
        #expect(store.reads.keys.max() == LeadingStructures.count - 1)
    }

    /// Dummy atoms can take a structure over the size the survey compares (it is left out), while
    /// its real atoms still count for the range; only those real atoms are kept.
    @Test func aStructureLargeOnlyByItsDummyAtomsCountsForTheRangeNotTheSurvey() throws {
        let dummies = LeadingStructures.largestStructure
        var marked = pair(3)
        marked.symbols += Array(repeating: Structure.dummySymbol, count: dummies)
        marked.positions += (0..<dummies).map { SIMD3(Double($0), 10, 0) }
        let leading = LeadingStructures(LoadedStructures([marked]))
        let kept = try leading.structures()
        #expect(kept.count == 1 && !kept[0].whole && kept[0].structure.count == 3)
        #expect(try ProjectionOverlap.survey(leading, sigma: 0.2).sampled == 0)
        #expect(try InteractionRange.estimate(leading) == InteractionRange.estimate(LeadingStructures(LoadedStructures([pair(3)]))))
    }
}
