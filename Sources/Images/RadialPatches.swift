import Structures

/// Each atom's environment as Gaussians summed on a 1-D grid of distances (the `atomic` model's
/// radial patch): h_i,c(r_k) = Σ_{j ≠ i of channel c} w_j · exp(−(r_k − r_ij)² / 2σ²) at
/// r_k = k·Δr, k = 0…bins−1. It is the Ryczko rasterisation in the radial coordinate, so
/// rotations and translations of a structure leave it unchanged; angles between neighbours are
/// not in it.
public struct RadialRasteriser: Sendable {
    /// Sigma, channels, cutoff (in σ) and periodic wrapping come from here; the image grid and
    /// depth do not apply.
    public let settings: RasterSettings
    /// Distance bins per channel.
    public let bins: Int
    /// Å between bin centres (Δr).
    public let spacing: Double

    /// Bins a radial patch may have (one fine grid reaching far is still a short vector).
    public static let binRange = 3...4096

    public init(settings: RasterSettings, bins: Int, spacing: Double) throws {
        try Self.check(settings: settings, bins: bins, spacing: spacing)
        self.settings = settings
        self.bins = bins
        self.spacing = spacing
    }

    /// Å from an atom to its last bin centre: neighbours farther than this plus a Gaussian's
    /// cutoff leave no trace.
    public var reach: Double { spacing * Double(bins - 1) }

    /// How far each Gaussian reaches, Å.
    var cutoff: Double { settings.cutoffSigmas * settings.sigma }

    /// The settings (σ, cutoff, channels) and the grid within their ranges and `RasterBudget`;
    /// errors name the option (`patch-size` for bins, `patch-spacing` for Δr).
    public static func check(settings: RasterSettings, bins: Int, spacing: Double) throws {
        guard binRange.contains(bins) else {
            throw RasterError(field: "patch-size", message: "a radial patch needs \(binRange.lowerBound)...\(binRange.upperBound) distance bins, got \(bins)")
        }
        let longest = RasterBudget.length
        guard spacing > 0, spacing.isFinite, spacing * Double(bins - 1) <= longest else {
            throw RasterError(field: "patch-spacing", message: "must be positive with (patch-size − 1) × spacing ≤ \(longest) Å, got \(spacing)")
        }
        guard settings.sigma > 0, settings.sigma.isFinite, settings.sigma <= longest else {
            throw RasterError(field: "sigma", message: "must be a width in (0, \(longest)] Å, got \(settings.sigma)")
        }
        try RasterBudget.checkSampling(sigma: settings.sigma, spacing: spacing, what: "the radial bin spacing")
        guard RasterBudget.cutoffSigmas.contains(settings.cutoffSigmas) else {
            throw RasterError(field: "cutoff", message: "must be in \(RasterBudget.cutoffSigmas.lowerBound)...\(RasterBudget.cutoffSigmas.upperBound) σ, "
                              + "got \(settings.cutoffSigmas)")
        }
        // Channels and species are checked as for images; the radial patch has no depth.
        try planarSettings(settings, spacing: spacing).validate()
        try RasterBudget.checkImage(side: 1, channels: settings.baseChannelCount, depth: bins, option: "patch-size")
    }

    /// The settings as the planar rasteriser checks atoms and channels with: its grid and depth
    /// replaced by a trivial one, since the radial patch uses neither.
    static func planarSettings(_ settings: RasterSettings, spacing: Double) -> RasterSettings {
        var flat = settings
        flat.depth = 1
        flat.gridSize = 2
        flat.extent = max(spacing, settings.sigma)
        return flat
    }

    /// Channels of one radial patch.
    public var channelCount: Int { settings.baseChannelCount }

    /// One radial patch per non-dummy atom, in atom order: `bins` × `channelCount` values each,
    /// channel after channel (pixels[c·bins + k], as `RasterImage` of height 1 and width `bins`).
    public func patches(of structure: Structure) throws -> (atoms: [Int], images: [RasterImage]) {
        let planar = try Rasteriser(settings: Self.planarSettings(settings, spacing: spacing))
        try planar.checkAtoms(structure)
        let atomCount = structure.realAtoms.count
        let (perAtom, overflowPerAtom) = bins.multipliedReportingOverflow(by: channelCount)
        let (values, overflow) = perAtom.multipliedReportingOverflow(by: atomCount)
        guard !overflowPerAtom, !overflow, values <= RasterBudget.imageValues else {
            throw RasterError(field: "patch-size", message: "\(atomCount) atoms × \(bins) bins × \(channelCount) channel(s) "
                              + "exceed the budget of \(RasterBudget.imageValues) values per structure")
        }
        // Centres are the wrapped atoms; every copy within reach + cutoff of one of them counts.
        let centres = try PeriodicCopies(structure, low: .zero, high: .zero, reach: 0, projected: false, wrap: settings.wrapPeriodic).positions
        let widening = SIMD3(repeating: reach)
        let low = centres.reduce(centres.first ?? .zero) { pointwiseMin($0, $1) } - widening
        let high = centres.reduce(centres.first ?? .zero) { pointwiseMax($0, $1) } + widening
        let copies = try PeriodicCopies(structure, low: low, high: high, reach: cutoff, projected: false, wrap: settings.wrapPeriodic)
        try planar.checkWork(atomCopies: Double(atomCount) * Double(structure.count) * Double(copies.translations.count))
        var atoms: [Int] = []
        var images: [RasterImage] = []
        for (index, symbol) in structure.symbols.enumerated() where !Structure.isDummy(symbol) {
            images.append(patch(around: index, centre: centres[index], symbols: structure.symbols, copies: copies, planar: planar))
            atoms.append(index)
        }
        return (atoms, images)
    }

    /// The radial patch of atom `centreAtom`: every other atom copy within reach + cutoff adds
    /// its Gaussian to its channel's bins (the atom itself only through its periodic images).
    func patch(around centreAtom: Int, centre: SIMD3<Double>, symbols: [String], copies: PeriodicCopies, planar: Rasteriser) -> RasterImage {
        var image = RasterImage(channels: channelCount, height: 1, width: bins)
        let farthest = reach + cutoff
        let zero = SIMD3<Double>(0, 0, 0)
        for (atom, symbol) in symbols.enumerated() {
            guard let (channel, weight) = planar.channelAndWeight(symbol) else { continue }
            for shift in copies.translations where !(atom == centreAtom && shift == zero) {
                let d = copies.positions[atom] + shift - centre
                let r = (d * d).sum().squareRoot()
                guard r <= farthest else { continue }
                addGaussian(at: r, channel: channel, weight: weight, into: &image.pixels)
            }
        }
        return image
    }

    /// Adds weight · exp(−(r_k − r)²/2σ²) to the bins within the cutoff of r.
    func addGaussian(at r: Double, channel: Int, weight: Float, into pixels: inout [Float]) {
        // Clamped to the bins in Double before conversion, so no ratio can trap the conversion.
        let firstIndex = ((r - cutoff) / spacing).rounded(.up), lastIndex = ((r + cutoff) / spacing).rounded(.down)
        guard firstIndex.isFinite, lastIndex.isFinite else { return }
        let first = Int(max(0, min(firstIndex, Double(bins))))
        let last = Int(min(Double(bins - 1), max(lastIndex, -1)))
        guard first <= last else { return }
        let base = channel * bins
        for k in first...last {
            // In units of σ, so a σ whose square underflows still gives exp(0) = 1 at the centre, not NaN.
            let z = (Double(k) * spacing - r) / settings.sigma
            pixels[base + k] += weight * Float(expDouble(-0.5 * z * z))
        }
    }
}
