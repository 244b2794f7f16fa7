import Structures

/// How structures become images: grid, Gaussian width, centring, depth and channels.
///
/// Pixel centres follow the seed's `linspace(0, extent, gridSize)`: the first pixel centre sits
/// at the grid origin and the last at `extent`, so the spacing is extent / (gridSize − 1).
public struct RasterSettings: Codable, Sendable, Equatable {
    /// Where the grid sits relative to the structure.
    public enum Centring: String, Codable, Sendable, CaseIterable {
        /// The first pixel centre at (0, 0[, 0]), as in the seed.
        case origin
        /// The grid centred on the centre of the structure's bounding box.
        case structure
    }

    /// What the channels hold.
    public enum Channels: Codable, Sendable, Equatable {
        /// One channel, every atom weighted 1 (the seed's images).
        case single
        /// One channel per species in this order; atoms of other species are left out.
        case species([String])
        /// One channel, each atom weighted by this element descriptor value.
        case descriptor(name: String, weights: [String: Double])
    }

    /// Pixels per side (height = width).
    public var gridSize: Int
    /// Å from the first to the last pixel centre along x and y.
    public var extent: Double
    /// Gaussian width σ in Å.
    public var sigma: Double
    public var centring: Centring
    /// 1: project along z (2D). More: that many z-slices, exposed as channels.
    public var depth: Int
    /// Å from the first to the last z-slice in 3D; nil means `extent`.
    public var zExtent: Double?
    public var channels: Channels
    /// Each Gaussian is cut off this many σ from its atom (≥ 4).
    public var cutoffSigmas: Double
    /// Wrap Gaussians across periodic cell boundaries.
    public var wrapPeriodic: Bool
    /// The species of the data a model with these settings was built from (nil: none recorded,
    /// as for plain rasterising). A model cannot represent any other: with one channel it would
    /// draw it as any atom, with species channels leave it out.
    public var trainingSpecies: [String]? = nil
    /// Where the first pixel centre sits under `.origin` centring (nil: at (0, 0, 0), as the
    /// seed); `--extent auto` places the box on the data's atoms (`DataBox`).
    public var origin: SIMD3<Double>? = nil

    public init(gridSize: Int = 256, extent: Double = 5, sigma: Double = 0.2, centring: Centring = .origin,
                depth: Int = 1, zExtent: Double? = nil, channels: Channels = .single, cutoffSigmas: Double = 5,
                wrapPeriodic: Bool = true) {
        self.gridSize = gridSize
        self.extent = extent
        self.sigma = sigma
        self.centring = centring
        self.depth = depth
        self.zExtent = zExtent
        self.channels = channels
        self.cutoffSigmas = cutoffSigmas
        self.wrapPeriodic = wrapPeriodic
    }

    /// The seed's example: a 5 Å × 5 Å box, 256 × 256 pixels, σ = 0.2 Å, one channel.
    public static let seedExample = RasterSettings()

    /// Distance between neighbouring pixel centres, Å.
    public var spacing: Double { gridSize > 1 ? extent / Double(gridSize - 1) : extent }
    public var zSpacing: Double { depth > 1 ? (zExtent ?? extent) / Double(depth - 1) : 0 }

    /// Channels before depth slicing.
    public var baseChannelCount: Int {
        if case .species(let list) = channels { return list.count }
        return 1
    }

    /// Channels of an image: base channels × z-slices.
    /// (Int.max when the product overflows, as a model file's depth could make it.)
    public var channelCount: Int {
        let (count, overflow) = baseChannelCount.multipliedReportingOverflow(by: depth)
        return overflow ? Int.max : count
    }

    /// Names of the channels, in image order.
    public var channelNames: [String] {
        let base: [String]
        switch channels {
        case .single: base = ["density"]
        case .species(let list): base = list
        case .descriptor(let name, _): base = [name]
        }
        guard depth > 1 else { return base }
        return base.flatMap { name in (0..<depth).map { "\(name)@z\($0)" } }
    }

    /// Checks the settings make sense and fit `RasterBudget`, with a message naming the option,
    /// its allowed range and what was asked for.
    public func validate() throws {
        func fail(_ field: String, _ message: String) -> RasterError { RasterError(field: field, message: message) }
        let longest = RasterBudget.length
        guard gridSize >= 2 else { throw fail("grid", "needs at least 2 pixels per side, got \(gridSize)") }
        guard depth >= 1, depth <= RasterBudget.depth else { throw fail("depth", "must be in 1...\(RasterBudget.depth), got \(depth)") }
        try RasterBudget.checkImage(side: gridSize, channels: baseChannelCount, depth: depth, option: "grid")
        guard extent > 0, extent.isFinite, extent <= longest else {
            throw fail("extent", "must be a length in (0, \(longest)] Å, got \(extent)")
        }
        if let zExtent, !(zExtent > 0 && zExtent.isFinite && zExtent <= longest) {
            throw fail("z-extent", "must be a length in (0, \(longest)] Å, got \(zExtent)")
        }
        if let origin, !(origin.x.isFinite && origin.y.isFinite && origin.z.isFinite && max(abs(origin.x), abs(origin.y), abs(origin.z)) <= longest) {
            throw fail("origin", "each coordinate must be finite and at most \(longest) Å in size, got (\(origin.x), \(origin.y), \(origin.z))")
        }
        guard sigma > 0, sigma.isFinite, sigma <= longest else { throw fail("sigma", "must be a width in (0, \(longest)] Å, got \(sigma)") }
        try RasterBudget.checkSampling(sigma: sigma, spacing: spacing, what: "extent / (grid − 1)")
        guard RasterBudget.cutoffSigmas.contains(cutoffSigmas) else {
            throw fail("cutoff", "must be in \(RasterBudget.cutoffSigmas.lowerBound)...\(RasterBudget.cutoffSigmas.upperBound) σ, got \(cutoffSigmas)")
        }
        switch channels {
        case .single: break
        case .species(let list):
            guard !list.isEmpty else { throw fail("species", "needs at least one species") }
            for symbol in list where !Structure.isDummy(symbol) && PeriodicTable.element(symbol) == nil {
                throw fail("species", "'\(symbol)' is not an element symbol (e.g. Cu, Pt; \(Structure.dummySymbol) for the adsorbate marker)")
            }
        case .descriptor(let name, let weights):
            for (symbol, weight) in weights where !weight.isFinite {
                throw fail("descriptor", "the '\(name)' weight of \(symbol) is \(weight); weights must be finite")
            }
        }
    }

    /// Checks that the channels will hold something for data holding `present` (its species):
    /// every species asked for occurs in it (an absent one would give an all-zero channel).
    public func checkChannels(present: [String]) throws {
        guard case .species(let list) = channels else { return }
        for symbol in list where !present.contains(symbol) {
            throw RasterError(field: "species", message: "no atom of \(symbol) in the data, so its channel would be all zero; "
                              + "choose from \(PeriodicTable.inTableOrder(present).joined(separator: ", "))")
        }
    }
}

/// What settings and structures may make the rasteriser allocate or loop over, checked before
/// it does; errors say what was asked for.
public enum RasterBudget {
    /// Values in one image or patch (pixels × channels): 2²⁶ floats, 256 MiB.
    public static let imageValues = 1 << 26
    /// Periodic copies of a structure that one image may consider.
    public static let periodicCopies = 100_000
    /// Atom copies (atoms × periodic copies; × atoms again for per-atom patches) visited for
    /// one structure: about a second of rasterising.
    public static let atomCopies = 200_000_000
    /// z-slices.
    public static let depth = 1024
    /// The widest pixel (or z-slice) spacing a Gaussian is sampled at, in σ.
    public static let coarsestSpacingInSigmas = 4.0
    /// Gaussian cutoff, in σ.
    public static let cutoffSigmas: ClosedRange<Double> = 4...20
    /// Largest length (extent, σ, |coordinate|), Å: the extxyz reader's bound.
    public static var length: Double { ExtXYZ.Limits.coordinate }

    /// side² × channels × depth within `imageValues`, by checked multiplication.
    public static func checkImage(side: Int, channels: Int, depth: Int, option: String) throws {
        var total = side
        for factor in [side, channels, depth] {
            let (product, overflow) = total.multipliedReportingOverflow(by: factor)
            guard !overflow, product <= imageValues else {
                throw RasterError(field: option, message: "\(side)×\(side) pixels × \(channels) channel(s) × \(depth) slice(s) "
                                  + "exceed the budget of \(imageValues) values per image (256 MiB)")
            }
            total = product
        }
    }

    /// A Gaussian narrower than a quarter of the pixel spacing falls between pixel centres and
    /// leaves the image (nearly) blank.
    static func checkSampling(sigma: Double, spacing: Double, what: String) throws {
        guard sigma * coarsestSpacingInSigmas >= spacing else {
            throw RasterError(field: "sigma", message: "σ = \(sigma) Å is less than a quarter of \(what) (\(spacing) Å): "
                              + "the Gaussians would fall between pixels; raise --sigma or lower --extent/--spacing")
        }
    }
}

/// Settings a rasteriser cannot work with.
public struct RasterError: Error, CustomStringConvertible, Equatable {
    public let field: String
    public let message: String
    public var description: String { "raster setting '\(field)': \(message)" }

    public init(field: String, message: String) { (self.field, self.message) = (field, message) }
}
