import Images
import Structures

/// The sizes a user may choose for each model, with the defaults of the seeds.
public struct ModelOptions: Sendable, Equatable {
    /// `sites`: hidden width (seed A: 6) and the element descriptors.
    public var hidden = 6
    public var descriptors: ElementDescriptors?
    /// `ryczko`: the image rasteriser settings; blocks and dense width (seed B: 6 and 1024).
    public var raster = RasterSettings.seedExample
    public var ryczkoBlocks = 6
    public var ryczkoDense = 1024
    /// `atomic`: patch size and spacing, filters and hidden width of the shared CNN.
    public var patchSize = 17
    public var patchSpacing = 0.35
    public var patchSigma = 0.4
    public var atomicFilters = 8
    public var atomicHidden = 16
    /// How every model's weights start (`Initialiser.swift`).
    public var initialisation = WeightInitialisation.he

    public init() {}
}

/// Builds the architecture and input encoding of a model kind for a data set.
public func makeModel(_ kind: ModelKind, for structures: [Structure], options: ModelOptions) throws -> (Architecture, InputEncoding) {
    try makeModel(kind, for: LoadedStructures(structures), options: options)
}

/// Builds the architecture and input encoding of a model kind for a data set: only the species
/// present and the first structure's site labels are read. The weights' initialisation is recorded.
public func makeModel(_ kind: ModelKind, for structures: StructureStore, options: ModelOptions) throws -> (Architecture, InputEncoding) {
    var (architecture, encoding) = try makeUninitialisedModel(kind, for: structures, options: options)
    architecture.initialisation = options.initialisation
    return (architecture, encoding)
}

private func makeUninitialisedModel(_ kind: ModelKind, for structures: StructureStore, options: ModelOptions) throws -> (Architecture, InputEncoding) {
    let species = structures.species
    switch kind {
    case .sites:
        let first = try structures.count > 0 ? structures.structure(0) : nil
        guard let first, let labels = first.siteLabels else {
            throw NetworkError("the sites model needs site labels (a site table, or an extxyz 'site' column)")
        }
        // Sites in the order the first structure lists them; dummy markers are not sites.
        let siteNames = zip(labels, first.symbols).filter { !Structure.isDummy($0.1) }.map(\.0)
        let elements = species.filter { !Structure.isDummy($0) }
        let descriptors = try options.descriptors ?? ElementDescriptors.lookUp(for: elements)
        let encoding = try InputEncoding.sites(siteNames: siteNames, descriptors: descriptors, elements: elements)
        return (.sites(features: encoding.itemShape.channels, hidden: options.hidden), encoding)
    case .ryczko:
        var raster = options.raster
        if case .species(let list) = raster.channels, list.isEmpty { raster.channels = .species(species) }
        let encoding = InputEncoding.image(raster)
        let shape = encoding.itemShape
        return (.ryczko(grid: shape.height, channels: shape.channels, blocks: options.ryczkoBlocks, dense: options.ryczkoDense), encoding)
    case .atomic:
        var raster = options.raster
        raster.sigma = options.patchSigma
        raster.centring = .origin
        raster.channels = .species(species)
        let encoding = InputEncoding.patches(raster, patchSize: options.patchSize, spacing: options.patchSpacing)
        let shape = encoding.itemShape
        return (.atomic(patch: options.patchSize, channels: shape.channels, filters: options.atomicFilters, hidden: options.atomicHidden), encoding)
    }
}
