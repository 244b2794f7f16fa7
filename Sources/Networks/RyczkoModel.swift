import Images
import Structures

/// Seed B's image CNN (`ModelKind.ryczko`, Ryczko et al.): one image per structure → one
/// energy. Not additive, so explained by swaps.
struct RyczkoRecipe: ModelRecipe {
    var kind: ModelKind { .ryczko }
    var summary: String { "seed B's image CNN" }
    var decomposition: DecompositionMethod { .swaps }
    var convolves: Bool { true }

    func check(_ options: ModelOptions) throws {
        try options.require(options.ryczkoBlocks, within: 0...16, option: "blocks", meaning: "ryczko conv blocks")
        try options.require(options.ryczkoDense, within: 1...ModelBudget.width, option: "dense", meaning: "ryczko dense width")
    }

    func build(for structures: StructureStore, options: ModelOptions) throws -> (Architecture, InputEncoding) {
        var raster = options.raster
        if case .species(let list) = raster.channels, list.isEmpty { raster.channels = .species(structures.species) }
        raster.trainingSpecies = structures.species
        let encoding = InputEncoding.image(raster)
        let shape = encoding.itemShape
        return (.ryczko(grid: shape.height, channels: shape.channels, blocks: options.ryczkoBlocks, dense: options.ryczkoDense), encoding)
    }

    func imageUse(_ options: ModelOptions) -> ImageUse { .wholeImages }

    /// The box from the data: the seed's 5 Å at the origin left 97 of ~160 atoms of held-out
    /// Lennard-Jones clusters off the grid (issue 25), and a model cannot learn what it does not see.
    /// Weights calibrated on data (`lsuv`): with He the six blocks' signal dies on small grids
    /// and most members never leave the training mean (Docs/Benchmarks.md, "Dead members").
    func defaults(patchShape: PatchShape) -> ModelDefaults { ModelDefaults(extentFromData: true, initialisation: .lsuv) }

    func scheme(for encoding: InputEncoding) -> (any EncodingScheme)? {
        guard case .image(let settings) = encoding else { return nil }
        return WholeImage(settings: settings)
    }
}

/// The image encoding: one item per structure, its whole image (channels last).
struct WholeImage: EncodingScheme {
    let settings: RasterSettings

    var itemShape: (height: Int, width: Int, channels: Int) { (settings.gridSize, settings.gridSize, settings.channelCount) }
    func check() throws { try settings.validate() }
    /// The training data's species: a species subset (`--species`) leaves the others out of
    /// the channels by choice, an element never seen is refused.
    var knownElements: Set<String>? { speciesKnown(settings) }
    func makeEncoder() throws -> any ItemEncoder { Encoder(rasteriser: try Rasteriser(settings: settings)) }

    struct Encoder: ItemEncoder {
        let rasteriser: Rasteriser
        func encode(_ structure: Structure) throws -> EncodedStructure {
            EncodedStructure(values: channelsLast(try rasteriser.image(of: structure)), labels: ["structure"], elements: [nil])
        }
    }
}

extension Architecture {
    /// Seed B for a G×G×C image: Conv 64 (3×3, /2), six blocks [Conv 16 (4×4), Conv 16 (4×4),
    /// Conv 64 (3×3, /2)], all ReLU, then Flatten, Dense 1024 ReLU, Dense 1.
    public static func ryczko(grid: Int, channels: Int, blocks: Int, dense: Int) -> Architecture {
        var layers: [LayerSpec] = [.conv(filters: 64, kernel: 3, stride: 2, activation: .relu, bias: true)]
        for _ in 0..<blocks {
            layers += [.conv(filters: 16, kernel: 4, stride: 1, activation: .relu, bias: true),
                       .conv(filters: 16, kernel: 4, stride: 1, activation: .relu, bias: true),
                       .conv(filters: 64, kernel: 3, stride: 2, activation: .relu, bias: true)]
        }
        layers += [.flatten, .dense(units: dense, activation: .relu, bias: true), .dense(units: 1, activation: .identity, bias: true)]
        return Architecture(kind: .ryczko, itemHeight: grid, itemWidth: grid, itemChannels: channels, layers: layers)
    }
}
