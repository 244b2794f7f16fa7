import Foundation
import Images
import Structures

/// How the `atomic` model sees each atom's neighbourhood.
public enum PatchShape: String, Sendable, Codable, CaseIterable {
    /// A square 2-D (or 3-D) image centred on the atom.
    case square
    /// Gaussians on a 1-D grid of distances from the atom (`RadialRasteriser`): rotation-invariant.
    case radial
}

/// The sizes a user may choose for each model, with the defaults of the seeds.
public struct ModelOptions: Sendable, Equatable {
    /// `sites`: hidden width (seed A: 6) and the element descriptors.
    public var hidden = 6
    public var descriptors: ElementDescriptors?
    /// `ryczko`: the image rasteriser settings; blocks and dense width (seed B: 6 and 1024).
    public var raster = RasterSettings.seedExample
    public var ryczkoBlocks = 6
    public var ryczkoDense = 1024
    /// `atomic`: patch shape, size (pixels a side, or distance bins when radial) and spacing,
    /// filters and hidden width of the shared network.
    public var patchShape = PatchShape.square
    public var patchSize = 17
    public var patchSpacing = 0.35
    public var patchSigma = 0.4
    public var atomicFilters = 8
    public var atomicHidden = 16
    /// `atomic` on radial patches: hidden width; 0 (the default) makes the network linear, which
    /// trained best on the Lennard-Jones clusters (Benchmarks.md).
    public var radialHidden = 0
    /// How every model's weights start (`Initialiser.swift`).
    public var initialisation = WeightInitialisation.he

    public init() {}
}

/// Builds the architecture and input encoding of a model kind for a data set.
public func makeModel(_ kind: ModelKind, for structures: [Structure], options: ModelOptions) throws -> (Architecture, InputEncoding) {
    try makeModel(kind, for: LoadedStructures(structures), options: options)
}

/// Builds the architecture and input encoding of a model kind for a data set (only the species
/// present and the first structure's site labels are read), after checking the options (each
/// error names its option and allowed range) and the model's size against `ModelBudget`. The
/// weights' initialisation is recorded.
public func makeModel(_ kind: ModelKind, for structures: StructureStore, options: ModelOptions) throws -> (Architecture, InputEncoding) {
    try options.check(for: kind)
    var (architecture, encoding) = try buildModel(kind, for: structures, options: options)
    architecture.initialisation = options.initialisation
    do { try architecture.checkSize() } catch let error as NetworkError {
        throw NetworkError("the \(kind.rawValue) model these options describe is too large: \(error.message)")
    }
    return (architecture, encoding)
}

extension ModelOptions {
    /// The options `kind` uses, each within its range.
    func check(for kind: ModelKind) throws {
        func within(_ value: Int, _ range: ClosedRange<Int>, _ option: String, _ meaning: String) throws {
            guard range.contains(value) else {
                throw NetworkError("--\(option) (\(meaning)) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
            }
        }
        switch kind {
        case .sites:
            try within(hidden, 1...ModelBudget.width, "hidden", "sites hidden width")
        case .ryczko:
            try within(ryczkoBlocks, 0...16, "blocks", "ryczko conv blocks")
            try within(ryczkoDense, 1...ModelBudget.width, "dense", "ryczko dense width")
        case .atomic:
            switch patchShape {
            case .square:
                try within(atomicFilters, 1...1024, "filters", "atomic conv filters")
                try within(atomicHidden, 1...ModelBudget.width, "atomic-hidden", "atomic hidden width")
                try within(patchSize, patchSizeRange, "patch-size", "atomic patch pixels per side")
            case .radial:
                try within(radialHidden, 0...ModelBudget.width, "radial-hidden", "radial atomic hidden width; 0: linear")
                try within(patchSize, patchSizeRange, "patch-size", "radial patch distance bins")
            }
            guard patchSpacing > 0, patchSpacing.isFinite, patchSpacing * Double(patchSize - 1) <= RasterBudget.length else {
                throw NetworkError("--patch-spacing must be positive with (patch-size − 1) × spacing ≤ \(RasterBudget.length) Å, got \(patchSpacing)")
            }
            guard patchSigma.isFinite, patchSigma * 4 >= patchSpacing, patchSigma <= RasterBudget.length else {
                throw NetworkError("--patch-sigma must be in [patch-spacing / 4, \(RasterBudget.length)] Å = [\(patchSpacing / 4), \(RasterBudget.length)], got \(patchSigma)")
            }
        }
    }
}

func buildModel(_ kind: ModelKind, for structures: StructureStore, options: ModelOptions) throws -> (Architecture, InputEncoding) {
    let species = structures.species
    switch kind {
    case .sites:
        let first = try structures.count > 0 ? structures.structure(0) : nil
        guard let first, let labels = first.siteLabels else {
            throw NetworkError("--model sites needs site labels (a site table, or an extxyz 'site' column)")
        }
        // Sites in the order the first structure lists them; dummy markers are not sites.
        let siteNames = zip(labels, first.symbols).filter { !Structure.isDummy($0.1) }.map(\.0)
        let elements = species.filter { !Structure.isDummy($0) }
        let descriptors = try options.descriptors ?? ElementDescriptors.lookUp(for: elements)
        guard !descriptors.names.isEmpty else {
            throw NetworkError("--descriptor-names needs at least one descriptor (\(ElementDescriptors.available.joined(separator: ", ")))")
        }
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
}

extension ModelOptions {
    /// Å from an atom to its `atomic` patch's edge (the last bin of a radial patch): how far
    /// the per-atom network can see.
    public var patchReach: Double { patchShape == .radial ? patchSpan : patchSpan / 2 }

    /// The `atomic` patch sizes allowed: pixels per side of a square patch, or radial distance bins.
    public var patchSizeRange: ClosedRange<Int> { patchShape == .radial ? RadialRasteriser.binRange : 3...255 }

    /// Å from an `atomic` patch's first pixel (or distance bin) to its last.
    public var patchSpan: Double { patchSpacing * Double(max(patchSize - 1, 0)) }

    /// A warning when the `atomic` patch stops short of `interactionRange` (Å; `how` says where
    /// the range came from): atoms beyond the patch cannot affect an atom's contribution, so
    /// energy that depends on them cannot be learnt. Nil when the patch reaches it.
    public func patchReachWarning(interactionRange: Double, how: String) -> String? {
        guard interactionRange.isFinite, patchReach < interactionRange else { return nil }
        let radial = patchShape == .radial
        // In Double: a tiny spacing or a huge range asks for more pixels than an Int holds.
        let needed = ((radial ? 1 : 2) * interactionRange / patchSpacing).rounded(.up) + 1
        let remedy = needed <= Double(patchSizeRange.upperBound)
            ? String(format: "--patch-size %.0f at this spacing reaches it.", needed)
            : "no --patch-size up to \(patchSizeRange.upperBound) reaches it at this spacing; raise --patch-spacing."
        return String(format: "warning: the atomic patch reaches %.2f Å from each atom ((--patch-size %d − 1) × --patch-spacing %.3g Å%@), "
                      + "less than the interaction range %.2f Å (%@): farther neighbours cannot affect an atom's contribution. %@",
                      patchReach, patchSize, patchSpacing, radial ? "" : " / 2", interactionRange, how, remedy)
    }
}
