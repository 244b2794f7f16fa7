import Testing
@testable import Images
@testable import Structures

/// A 2-D single-channel image merges atoms stacked in z; the check says so, and stays silent
/// where the images keep them apart or nothing is stacked.
struct ProjectionOverlapTests {
    /// Three Cu atoms in a row, an O atom 1.8 Å above the middle one (0.1 Å off in x).
    let adsorbed = Structure(symbols: ["Cu", "Cu", "Cu", "O"],
                             positions: [SIMD3(0, 0, 0), SIMD3(2.5, 0, 0), SIMD3(5, 0, 0), SIMD3(2.6, 0, 1.8)])
    /// The same atoms, all in one plane.
    let flat = Structure(symbols: ["Cu", "Cu", "Cu", "O"],
                         positions: [SIMD3(0, 0, 0), SIMD3(2.5, 0, 0), SIMD3(5, 0, 0), SIMD3(2.5, 1.8, 0)])

    @Test func stackedAtomsAreNamedUnlessTheImagesSeparateThem() throws {
        let store = LoadedStructures([flat, adsorbed, adsorbed])
        let warning = try #require(try ProjectionOverlap.warning(store, settings: RasterSettings(), sigma: 0.2))
        #expect(warning.contains("in 2 of the first 3 structures") && warning.contains("structure 2, atoms 2 and 4"), "\(warning)")
        // σ below the 0.1 Å offset: the two blobs stay apart.
        #expect(try ProjectionOverlap.warning(store, settings: RasterSettings(), sigma: 0.05) == nil)
        #expect(try ProjectionOverlap.warning(store, settings: RasterSettings(depth: 4), sigma: 0.2) == nil)
        #expect(try ProjectionOverlap.warning(store, settings: RasterSettings(channels: .species(["Cu", "O"])), sigma: 0.2) == nil)
        #expect(try ProjectionOverlap.warning(LoadedStructures([flat]), settings: RasterSettings(), sigma: 0.2) == nil)
    }

    @Test func theDummyMarkerIsNotAnAtom() {
        let marked = Structure(symbols: ["Cu", Structure.dummySymbol], positions: [SIMD3(0, 0, 0), SIMD3(0, 0, 2)])
        #expect(ProjectionOverlap.mergedPair(marked, sigma: 0.2) == nil)
    }
}
