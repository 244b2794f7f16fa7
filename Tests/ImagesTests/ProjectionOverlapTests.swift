import Testing
@testable import Images
@testable import Structures

/// 2-D images merge atoms stacked in z; the survey finds them, says which settings still merge
/// them, and gives atom-centred patches enough z-slices to part them.
struct ProjectionOverlapTests {
    /// Three Cu atoms in a row, an O atom 1.8 Å above the middle one (0.1 Å off in x).
    let adsorbed = Structure(symbols: ["Cu", "Cu", "Cu", "O"],
                             positions: [SIMD3(0, 0, 0), SIMD3(2.5, 0, 0), SIMD3(5, 0, 0), SIMD3(2.6, 0, 1.8)])
    /// The same atoms, all in one plane.
    let flat = Structure(symbols: ["Cu", "Cu", "Cu", "O"],
                         positions: [SIMD3(0, 0, 0), SIMD3(2.5, 0, 0), SIMD3(5, 0, 0), SIMD3(2.5, 1.8, 0)])
    /// A Cu atom 2 Å straight above another (a second layer, as in a slab).
    let layered = Structure(symbols: ["Cu", "Cu", "O"], positions: [SIMD3(0, 0, 0), SIMD3(0, 0, 2), SIMD3(3, 0, 0)])

    @Test func theSurveyCountsStackedPairsOfAnyAndOfOneSpecies() throws {
        let survey = try ProjectionOverlap.survey(LeadingStructures(LoadedStructures([flat, adsorbed, adsorbed, layered])), sigma: 0.2)
        #expect(survey.sampled == 4)
        #expect(survey.anySpecies.structures == 3 && survey.anySpecies.first! == (2, 2, 4))
        #expect(survey.sameSpecies.structures == 1 && survey.sameSpecies.first! == (4, 1, 2))
        // σ below the 0.1 Å offset: the adsorbate's blob stays apart from its metal atom's.
        #expect(try ProjectionOverlap.survey(LeadingStructures(LoadedStructures([adsorbed])), sigma: 0.05).anySpecies.structures == 0)
    }

    @Test func speciesChannelsPartWholeImagesOfDifferentSpeciesButNotPatches() throws {
        let adsorbate = try ProjectionOverlap.survey(LeadingStructures(LoadedStructures([flat, adsorbed])), sigma: 0.2)
        let species = RasterSettings(channels: .species(["Cu", "O"]))
        #expect(ProjectionOverlap.merged(adsorbate, settings: RasterSettings(), patches: false)?.structures == 1)
        #expect(ProjectionOverlap.merged(adsorbate, settings: species, patches: false) == nil)
        // Both atoms' patches hold the same two blobs at their centre, whatever the channels.
        #expect(ProjectionOverlap.merged(adsorbate, settings: species, patches: true)?.structures == 1)
        #expect(ProjectionOverlap.merged(adsorbate, settings: RasterSettings(depth: 5), patches: true) == nil)
        let slab = try ProjectionOverlap.survey(LeadingStructures(LoadedStructures([layered])), sigma: 0.2)
        #expect(ProjectionOverlap.merged(slab, settings: species, patches: false)?.structures == 1)

        let warning = try #require(ProjectionOverlap.warning(adsorbate, settings: species, patches: true))
        #expect(warning.contains("in 1 of the first 2 structures") && warning.contains("structure 2, atoms 2 and 4")
                && warning.contains("--depth auto"), "\(warning)")
        #expect(ProjectionOverlap.warning(adsorbate, settings: species, patches: false) == nil)
        #expect(try #require(ProjectionOverlap.warning(adsorbate, settings: RasterSettings(), patches: false)).contains("--channels species"))
    }

    /// The fewest odd slice counts whose spacing the rasteriser accepts (≤ 4σ), and no fewer.
    @Test func separatingDepthIsTheFewestOddSlicesTheSamplingRuleAccepts() throws {
        #expect(ProjectionOverlap.separatingDepth(zExtent: 5.6, sigma: 0.4) == 5)
        #expect(ProjectionOverlap.separatingDepth(zExtent: 5.6, sigma: 0.2) == 9)
        #expect(ProjectionOverlap.separatingDepth(zExtent: 0.5, sigma: 0.4) == 3)
        for (extent, sigma) in [(5.6, 0.4), (3.0, 0.1), (8.0, 0.35), (1.0, 1.0), (50.0, 0.2)] {
            let depth = ProjectionOverlap.separatingDepth(zExtent: extent, sigma: sigma)
            #expect(depth % 2 == 1 && depth >= 3)
            #expect(extent / Double(depth - 1) <= RasterBudget.coarsestSpacingInSigmas * sigma)
            if depth > 3 { #expect(extent / Double(depth - 3) > RasterBudget.coarsestSpacingInSigmas * sigma) }
            // The rasteriser accepts a patch with those slices.
            let settings = RasterSettings(gridSize: depth, extent: extent, sigma: sigma, depth: depth, channels: .species(["Cu"]))
            try settings.validate()
        }
        #expect(ProjectionOverlap.separatingDepth(zExtent: .nan, sigma: 0.4) == 1)
        #expect(ProjectionOverlap.separatingDepth(zExtent: 1e9, sigma: 1e-9) == RasterBudget.depth - 1)
    }

    @Test func theDummyMarkerIsNotAnAtom() {
        let marked = Structure(symbols: ["Cu", Structure.dummySymbol], positions: [SIMD3(0, 0, 0), SIMD3(0, 0, 2)])
        #expect(ProjectionOverlap.mergedPair(marked, sigma: 0.2) == nil)
    }
}
