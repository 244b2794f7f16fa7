import Testing
@testable import Networks
@testable import Structures

/// The registry of model kinds: one recipe per kind, and every encoding read by exactly the
/// recipe of the kind that built it.
struct ModelRecipeTests {
    func structures() -> [Structure] {
        [Structure(symbols: ["Cu", "Pt", "Cu"], positions: [.zero, SIMD3(1.2, 0.3, 0), SIMD3(0.1, 2.0, 0.5)],
                   energy: -3, siteLabels: ["a", "b", "c"]),
         Structure(symbols: ["Pt", "Pt", "Cu"], positions: [.zero, SIMD3(2.1, 0, 0), SIMD3(0, 1.4, 0)],
                   energy: -4, siteLabels: ["a", "b", "c"])]
    }

    /// Small options for every kind; `radial` picks the atomic patch shape.
    func options(radial: Bool) -> ModelOptions {
        var options = ModelOptions()
        options.raster.gridSize = 16
        options.ryczkoBlocks = 1
        options.ryczkoDense = 8
        options.patchSize = 9
        if radial { options.patchShape = .radial }
        return options
    }

    @Test func everyKindHasExactlyOneRecipe() {
        for kind in ModelKind.allCases {
            #expect(ModelRecipes.registered.filter { $0.kind == kind }.count == 1, "\(kind)")
            #expect(kind.recipe.kind == kind)
        }
        #expect(ModelRecipes.registered.count == ModelKind.allCases.count)
    }

    @Test func eachBuiltEncodingBelongsToItsKindAlone() throws {
        for kind in ModelKind.allCases {
            for radial in [false, true] {
                let (architecture, encoding) = try makeModel(kind, for: structures(), options: options(radial: radial))
                let readers = ModelRecipes.registered.filter { $0.scheme(for: encoding) != nil }.map(\.kind)
                #expect(readers == [kind], "\(kind), radial \(radial): read by \(readers)")
                #expect(encoding.kind == kind && architecture.kind == kind)
                let shape = encoding.itemShape
                #expect([shape.height, shape.width, shape.channels] == [architecture.itemHeight, architecture.itemWidth, architecture.itemChannels])
                // The encoder its kind's code builds gives items of that shape.
                let encoded = try SampleEncoder(encoding).encode(structures()[0])
                #expect(encoded.values.count == encoded.itemCount * architecture.itemSize)
            }
        }
    }

    @Test func eachKindNamesHowItIsExplained() {
        #expect(ModelKind.sites.decompositionMethod == .readOff)
        #expect(ModelKind.ryczko.decompositionMethod == .swaps)
        #expect(ModelKind.atomic.decompositionMethod == .swapsAndAtomSplit)
        #expect(ModelOptions().imageUse(for: .sites) == .none)
        #expect(ModelOptions().imageUse(for: .ryczko) == .wholeImages)
        #expect(options(radial: true).imageUse(for: .atomic) == .none)
        #expect(options(radial: false).imageUse(for: .atomic) == .patches(extent: 8 * 0.35, sigma: 0.4))
    }
}
