import Images
import Structures

/// Per-atom patches through a shared small network (`ModelKind.atomic`) → ε_atom; a structure's
/// energy is the sum over its atoms, so each atom's contribution is exact. Square patches are
/// projected images around each atom (a small CNN); radial ones are Gaussians on a grid of
/// distances (rotation-invariant; a dense network, linear by default).
struct AtomicRecipe: ModelRecipe {
    var kind: ModelKind { .atomic }
    var summary: String { "per-atom patches, exact contributions" }
    var decomposition: DecompositionMethod { .swapsAndAtomSplit }
    var convolves: Bool { true }

    func check(_ options: ModelOptions) throws {
        switch options.patchShape {
        case .square:
            try options.require(options.atomicFilters, within: 1...1024, option: "filters", meaning: "atomic conv filters")
            try options.require(options.atomicHidden, within: 1...ModelBudget.width, option: "atomic-hidden", meaning: "atomic hidden width")
            try options.require(options.patchSize, within: options.patchSizeRange, option: "patch-size", meaning: "atomic patch pixels per side")
        case .radial:
            try options.require(options.radialHidden, within: 0...ModelBudget.width, option: "radial-hidden", meaning: "radial atomic hidden width; 0: linear")
            try options.require(options.patchSize, within: options.patchSizeRange, option: "patch-size", meaning: "radial patch distance bins")
        }
        let (spacing, sigma) = (options.patchSpacing, options.patchSigma)
        guard spacing > 0, spacing.isFinite, spacing * Double(options.patchSize - 1) <= RasterBudget.length else {
            throw NetworkError("--patch-spacing must be positive with (patch-size − 1) × spacing ≤ \(RasterBudget.length) Å, got \(spacing)")
        }
        guard sigma.isFinite, sigma * 4 >= spacing, sigma <= RasterBudget.length else {
            throw NetworkError("--patch-sigma must be in [patch-spacing / 4, \(RasterBudget.length)] Å = [\(spacing / 4), \(RasterBudget.length)], got \(sigma)")
        }
    }

    func build(for structures: StructureStore, options: ModelOptions) throws -> (Architecture, InputEncoding) {
        var raster = options.raster
        raster.sigma = options.patchSigma
        raster.centring = .origin
        raster.channels = .species(structures.species)
        raster.trainingSpecies = structures.species
        // The patch is the grid this model samples: the image grid options do not apply.
        raster.gridSize = options.patchSize
        raster.extent = options.patchSpan
        if options.patchShape == .radial {
            // Distances are measured in 3-D: no z-slices, and no image grid.
            raster.depth = 1
            raster.zExtent = nil
            raster.gridSize = 2
            raster.extent = max(options.patchSpacing, options.patchSigma)
            let encoding = InputEncoding.radialPatches(raster, bins: options.patchSize, spacing: options.patchSpacing)
            return (.radialAtomic(bins: options.patchSize, channels: encoding.itemShape.channels, hidden: options.radialHidden), encoding)
        }
        let encoding = InputEncoding.patches(raster, patchSize: options.patchSize, spacing: options.patchSpacing)
        let shape = encoding.itemShape
        return (.atomic(patch: options.patchSize, channels: shape.channels, filters: options.atomicFilters, hidden: options.atomicHidden), encoding)
    }

    /// Radial patches measure 3-D distances: nothing is projected.
    func imageUse(_ options: ModelOptions) -> ImageUse {
        options.patchShape == .radial ? .none : .patches(extent: options.patchSpan, sigma: options.patchSigma)
    }

    /// Square patches: the seed-sized CNN's 17² pixels at 0.35 Å, σ 0.4 Å. Radial patches: the
    /// LJ benchmark's recipe (Benchmarks.md, row r0b: test MAE 0.0064 eV, a quarter of the
    /// best linear pair-histogram fit's): fine bins (226 at 0.02 Å, reach 4.5 Å, σ = the
    /// spacing) and a small learning rate for long, as Adam's step is its noise floor.
    func defaults(patchShape: PatchShape) -> ModelDefaults {
        switch patchShape {
        case .square: ModelDefaults(patch: Self.grid(of: .square))
        case .radial: ModelDefaults(epochs: 3000, learningRate: 1e-4, patch: Self.grid(of: .radial))
        }
    }

    static func grid(of shape: PatchShape) -> PatchGrid {
        switch shape {
        case .square: PatchGrid(size: 17, spacing: 0.35, sigma: 0.4)
        case .radial: PatchGrid(size: 226, spacing: 0.02, sigma: 0.02)
        }
    }

    func reachWarning(_ options: ModelOptions, interactionRange: () throws -> (range: Double, how: String)?) throws -> String? {
        guard let (range, how) = try interactionRange() else { return nil }
        return options.patchReachWarning(interactionRange: range, how: how)
    }

    func scheme(for encoding: InputEncoding) -> (any EncodingScheme)? {
        switch encoding {
        case .patches(let settings, let size, let spacing): SquarePatches(settings: settings, size: size, spacing: spacing)
        case .radialPatches(let settings, let bins, let spacing): RadialPatches(settings: settings, bins: bins, spacing: spacing)
        default: nil
        }
    }
}

/// The elements a per-atom encoding knows: its species channels (nil: any).
func speciesKnown(_ settings: RasterSettings) -> Set<String>? {
    if let trained = settings.trainingSpecies { return Set(trained) }
    guard case .species(let list) = settings.channels else { return nil }  // model files from before trainingSpecies
    return Set(list)
}

/// One item per atom patch, labelled and typed by its atom.
private func perAtom(_ structure: Structure, atoms: [Int], patches: [RasterImage]) -> EncodedStructure {
    let labels = structure.groupingLabels
    return EncodedStructure(values: patches.flatMap(channelsLast), labels: atoms.map { labels[$0] },
                            elements: atoms.map { structure.symbols[$0] })
}

/// The square patches encoding: one item per (non-dummy) atom, its atom-centred image (channels last).
struct SquarePatches: EncodingScheme {
    let settings: RasterSettings
    let size: Int
    let spacing: Double

    var itemShape: (height: Int, width: Int, channels: Int) { (size, size, settings.channelCount) }
    func check() throws { try Rasteriser(settings: settings).checkPatches(size: size, spacing: spacing) }
    var knownElements: Set<String>? { speciesKnown(settings) }
    func makeEncoder() throws -> any ItemEncoder { Encoder(rasteriser: try Rasteriser(settings: settings), size: size, spacing: spacing) }

    struct Encoder: ItemEncoder {
        let rasteriser: Rasteriser
        let size: Int
        let spacing: Double
        func encode(_ structure: Structure) throws -> EncodedStructure {
            let (atoms, patches) = try rasteriser.patches(of: structure, patchSize: size, spacing: spacing)
            return perAtom(structure, atoms: atoms, patches: patches)
        }
    }
}

/// The radial patches encoding: one item per (non-dummy) atom, `bins` distances `spacing` Å
/// apart (1 × bins × channels, channels last; `RadialRasteriser`).
struct RadialPatches: EncodingScheme {
    let settings: RasterSettings
    let bins: Int
    let spacing: Double

    var itemShape: (height: Int, width: Int, channels: Int) { (1, bins, settings.baseChannelCount) }
    func check() throws { try RadialRasteriser.check(settings: settings, bins: bins, spacing: spacing) }
    var knownElements: Set<String>? { speciesKnown(settings) }
    /// The per-structure mean is left out (0): the per-atom bias carries the energy per atom. The
    /// mean would otherwise be spread as mean/N over N atoms, which no atom's patch can know (on
    /// the Lennard-Jones clusters it held a linear model on radial patches at 0.58 eV training
    /// MAE; without it, 0.009 eV test MAE).
    var centresEnergies: Bool { false }
    func makeEncoder() throws -> any ItemEncoder { Encoder(rasteriser: try RadialRasteriser(settings: settings, bins: bins, spacing: spacing)) }

    struct Encoder: ItemEncoder {
        let rasteriser: RadialRasteriser
        func encode(_ structure: Structure) throws -> EncodedStructure {
            let (atoms, patches) = try rasteriser.patches(of: structure)
            return perAtom(structure, atoms: atoms, patches: patches)
        }
    }
}

extension Architecture {
    /// The per-atom network: Conv(filters, 3×3) ReLU, Conv(filters, 3×3, /2) ReLU, Flatten,
    /// Dense(hidden, tanh), Dense(1).
    public static func atomic(patch: Int, channels: Int, filters: Int, hidden: Int) -> Architecture {
        Architecture(kind: .atomic, itemHeight: patch, itemWidth: patch, itemChannels: channels,
                     layers: [.conv(filters: filters, kernel: 3, stride: 1, activation: .relu, bias: true),
                              .conv(filters: filters, kernel: 3, stride: 2, activation: .relu, bias: true),
                              .flatten,
                              .dense(units: hidden, activation: .tanh, bias: true),
                              .dense(units: 1, activation: .identity, bias: true)])
    }

    /// The per-atom network on radial patches (1 × bins × channels): Flatten, Dense(hidden,
    /// tanh), Dense(1). With hidden 0 just Flatten, Dense(1): a linear map of the radial
    /// histogram, i.e. a pair potential on a Gaussian basis.
    public static func radialAtomic(bins: Int, channels: Int, hidden: Int) -> Architecture {
        var layers: [LayerSpec] = [.flatten]
        if hidden > 0 { layers.append(.dense(units: hidden, activation: .tanh, bias: true)) }
        layers.append(.dense(units: 1, activation: .identity, bias: true))
        return Architecture(kind: .atomic, itemHeight: 1, itemWidth: bins, itemChannels: channels, layers: layers)
    }
}
