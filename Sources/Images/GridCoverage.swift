import Structures

/// Atoms that fall off whole-image grids, counted over structures: the one count that
/// `rasterise` notes and `train` refuses (`Rasteriser.atomsOutside` decides each atom).
public struct GridCoverage: Sendable, Equatable {
    public private(set) var atomsOutside = 0
    public private(set) var structuresCropped = 0
    /// The first structure that loses atoms.
    public private(set) var first: Cropped?

    /// A structure (0-based index) and the atoms it loses.
    public struct Cropped: Sendable, Equatable {
        public let index: Int
        public let atoms: Int
    }

    public init() {}

    /// Counts `atoms` left off the grid of structure `index`.
    public mutating func add(_ atoms: Int, structure index: Int) {
        guard atoms > 0 else { return }
        atomsOutside += atoms
        structuresCropped += 1
        if first == nil { first = Cropped(index: index, atoms: atoms) }
    }

    /// Every structure of `structures` on `rasteriser`'s grid, without drawing the images.
    public static func survey(_ structures: StructureStore, rasteriser: Rasteriser) throws -> GridCoverage {
        var coverage = GridCoverage()
        for index in 0..<structures.count {
            coverage.add(try rasteriser.atomsOutside(of: structures.structure(index)), structure: index)
        }
        return coverage
    }

    /// "97 atoms in 60 of 2000 structures (the first: structure 3, 2 atoms)", 1-based as the file's frames.
    public func describe(of total: Int) -> String {
        let firstPart = first.map { " (the first: structure \($0.index + 1), \($0.atoms) atom\($0.atoms == 1 ? "" : "s"))" } ?? ""
        return "\(atomsOutside) atom\(atomsOutside == 1 ? "" : "s") in \(structuresCropped) of \(total) structures\(firstPart)"
    }
}

/// The whole-image box chosen from the data (`--extent auto`): every atom's position inside it
/// with a margin of `marginSigmas` σ, so no atom falls off the grid and its Gaussian is kept.
public enum DataBox {
    /// The margin around the atoms, in σ: past 3 σ a Gaussian has lost 99.7 % of its weight.
    public static let marginSigmas = 3.0

    /// `settings` with the extent (and z-extent with z-slices) that holds every atom of
    /// `structures`: under `.origin` centring one box for all, placed on the atoms (`origin`);
    /// under `.structure` centring the largest structure's span, each structure centred.
    public static func fitting(_ settings: RasterSettings, to structures: StructureStore) throws -> RasterSettings {
        var low = SIMD3<Double>(repeating: .infinity), high = SIMD3<Double>(repeating: -.infinity)
        var widest = SIMD3<Double>(repeating: 0)
        for index in 0..<structures.count {
            let positions = try structures.structure(index).positions
            guard let firstPosition = positions.first else { continue }
            let (lowest, highest) = positions.reduce((firstPosition, firstPosition)) { (pointwiseMin($0.0, $1), pointwiseMax($0.1, $1)) }
            (low, high) = (pointwiseMin(low, lowest), pointwiseMax(high, highest))
            widest = pointwiseMax(widest, highest - lowest)
        }
        guard low.x.isFinite else { return settings }  // no atoms: nothing to fit
        let margin = marginSigmas * settings.sigma
        let span = settings.centring == .origin ? high - low : widest
        var fitted = settings
        fitted.extent = max(span.x, span.y) + 2 * margin
        if settings.depth > 1 { fitted.zExtent = span.z + 2 * margin }
        if settings.centring == .origin {
            fitted.origin = SIMD3(low.x - margin, low.y - margin, settings.depth > 1 ? low.z - margin : 0)
        }
        return fitted
    }

    /// How `settings` (as `fitting` chose them) place the box, for the start of a run and `run.json`.
    public static func describe(_ settings: RasterSettings) -> String {
        let origin = settings.origin.map { String(format: " from (%.3f, %.3f, %.3f) Å", $0.x, $0.y, $0.z) } ?? " centred on each structure"
        let depth = settings.depth > 1 ? String(format: ", z-extent %.4g Å", settings.zExtent ?? settings.extent) : ""
        return String(format: "auto: %.4g Å", settings.extent) + origin + depth
    }
}
