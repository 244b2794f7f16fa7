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
    public var channelCount: Int { baseChannelCount * depth }

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

    /// Checks the settings make sense, with a message naming the option.
    public func validate() throws {
        func fail(_ field: String, _ message: String) -> RasterError { RasterError(field: field, message: message) }
        guard gridSize >= 2 else { throw fail("grid", "needs at least 2 pixels per side, got \(gridSize)") }
        guard extent > 0, extent.isFinite else { throw fail("extent", "must be a positive length in Å, got \(extent)") }
        guard sigma > 0, sigma.isFinite else { throw fail("sigma", "must be a positive width in Å, got \(sigma)") }
        guard depth >= 1 else { throw fail("depth", "must be at least 1, got \(depth)") }
        guard cutoffSigmas >= 4 else { throw fail("cutoff", "must be at least 4 σ, got \(cutoffSigmas)") }
        if case .species(let list) = channels, list.isEmpty { throw fail("species", "needs at least one species") }
    }
}

/// Settings a rasteriser cannot work with.
public struct RasterError: Error, CustomStringConvertible, Equatable {
    public let field: String
    public let message: String
    public var description: String { "raster setting '\(field)': \(message)" }
}
