import Foundation
import Structures

/// A stack of images, channels first: pixels[c][y][x] at index (c·height + y)·width + x.
public struct RasterImage: Sendable, Equatable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public var pixels: [Float]
    /// Atoms (of a channel this image holds) none of whose copies reach the grid: they are not
    /// in the image, and callers say so instead of dropping them silently.
    public var atomsOutside = 0

    public init(channels: Int, height: Int, width: Int, pixels: [Float]? = nil) {
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels ?? [Float](repeating: 0, count: channels * height * width)
    }

    public subscript(channel: Int, y: Int, x: Int) -> Float {
        pixels[(channel * height + y) * width + x]
    }
}

/// Sums a Gaussian of width σ per atom on a regular grid (Ryczko et al., 2018).
///
/// Each Gaussian is cut off at `cutoffSigmas`·σ and built from its separable factors: the 1-D
/// exponentials along x, y (and z) are computed once per atom and their outer product is added,
/// so no exponential is evaluated per pixel.
public struct Rasteriser: Sendable {
    public let settings: RasterSettings

    public init(settings: RasterSettings) throws {
        try settings.validate()
        self.settings = settings
    }

    /// How far each Gaussian reaches, Å.
    var cutoff: Double { settings.cutoffSigmas * settings.sigma }

    /// The image of a whole structure.
    public func image(of structure: Structure) throws -> RasterImage {
        try checkAtoms(structure)
        let origin = gridOrigin(for: structure)
        let grid = Grid(origin: origin, n: settings.gridSize, h: settings.spacing, depth: settings.depth, hz: settings.zSpacing)
        let copies = try PeriodicCopies(structure, low: grid.origin, high: grid.high, reach: cutoff,
                                        projected: settings.depth == 1, wrap: settings.wrapPeriodic)
        try checkWork(atomCopies: Double(structure.count) * Double(copies.translations.count))
        return render(structure.symbols, copies, grid: grid)
    }

    /// Atoms of `structure` (of a channel the images hold) none of whose copies reach the grid of
    /// its whole image: `image(of:)` would leave them out (its `atomsOutside`), found without
    /// drawing it.
    public func atomsOutside(of structure: Structure) throws -> Int {
        try checkAtoms(structure)
        let grid = Grid(origin: gridOrigin(for: structure), n: settings.gridSize, h: settings.spacing, depth: settings.depth, hz: settings.zSpacing)
        let copies = try PeriodicCopies(structure, low: grid.origin, high: grid.high, reach: cutoff,
                                        projected: settings.depth == 1, wrap: settings.wrapPeriodic)
        try checkWork(atomCopies: Double(structure.count) * Double(copies.translations.count))
        return structure.symbols.indices.filter { atom in
            channelAndWeight(structure.symbols[atom]) != nil
                && !copies.translations.contains { grid.touches(copies.positions[atom] + $0, reach: cutoff) }
        }.count
    }

    /// One image per atom, `patchSize` pixels a side at `spacing` Å, centred on that atom and
    /// holding it and every neighbour in reach. Dummy atoms get no patch of their own.
    public func patches(of structure: Structure, patchSize: Int, spacing: Double) throws -> (atoms: [Int], images: [RasterImage]) {
        try checkPatches(size: patchSize, spacing: spacing)
        try checkAtoms(structure)
        let atomCount = structure.realAtoms.count
        let (values, overflow) = (patchSize * patchSize * settings.channelCount).multipliedReportingOverflow(by: atomCount)
        guard !overflow, values <= RasterBudget.imageValues else {
            throw RasterError(field: "patch-size", message: "\(atomCount) atoms × \(patchSize)² pixels × \(settings.channelCount) channel(s) "
                              + "exceed the budget of \(RasterBudget.imageValues) values per structure")
        }
        let half = Double(patchSize - 1) / 2 * spacing
        let zHalf = settings.depth > 1 ? Double(settings.depth - 1) / 2 * settings.zSpacing : 0
        let offset = SIMD3(half, half, zHalf)
        // Patches are centred on the wrapped atoms: by periodicity they see what the atoms
        // as written would, and all of them lie in one cell's reach.
        let centres = try PeriodicCopies(structure, low: .zero, high: .zero, reach: 0, projected: settings.depth == 1,
                                         wrap: settings.wrapPeriodic).positions
        let low = centres.reduce(centres.first ?? .zero) { pointwiseMin($0, $1) } - offset
        let high = centres.reduce(centres.first ?? .zero) { pointwiseMax($0, $1) } + offset
        let copies = try PeriodicCopies(structure, low: low, high: high, reach: cutoff, projected: settings.depth == 1, wrap: settings.wrapPeriodic)
        try checkWork(atomCopies: Double(atomCount) * Double(structure.count) * Double(copies.translations.count))
        var atoms: [Int] = []
        var images: [RasterImage] = []
        for (index, symbol) in structure.symbols.enumerated() where !Structure.isDummy(symbol) {
            let grid = Grid(origin: centres[index] - offset, n: patchSize, h: spacing, depth: settings.depth, hz: settings.zSpacing)
            images.append(render(structure.symbols, copies, grid: grid))
            atoms.append(index)
        }
        return (atoms, images)
    }

    /// Patch geometry within its allowed ranges (the options of the atomic model).
    public func checkPatches(size: Int, spacing: Double) throws {
        guard (3...255).contains(size) else {
            throw RasterError(field: "patch-size", message: "must be in 3...255 pixels, got \(size)")
        }
        try RasterBudget.checkImage(side: size, channels: settings.baseChannelCount, depth: settings.depth, option: "patch-size")
        guard spacing > 0, spacing.isFinite, spacing * Double(size - 1) <= RasterBudget.length else {
            throw RasterError(field: "patch-spacing", message: "must be positive with (patch-size − 1) × spacing ≤ \(RasterBudget.length) Å, got \(spacing)")
        }
        try RasterBudget.checkSampling(sigma: settings.sigma, spacing: spacing, what: "the patch spacing")
    }

    /// Atoms the rendering below can take: a weight for each (descriptor channels), positions
    /// finite and within `RasterBudget.length`.
    func checkAtoms(_ structure: Structure) throws {
        try checkWeights(structure)
        for (atom, p) in structure.positions.enumerated() {
            guard p.x.isFinite, p.y.isFinite, p.z.isFinite, max(abs(p.x), abs(p.y), abs(p.z)) <= RasterBudget.length else {
                throw RasterError(field: "position of atom \(atom + 1)",
                                  message: "(\(p.x), \(p.y), \(p.z)) Å: each coordinate must be finite and at most \(RasterBudget.length) Å in size")
            }
        }
    }

    /// Where the first pixel centre sits.
    func gridOrigin(for structure: Structure) -> SIMD3<Double> {
        switch settings.centring {
        case .origin:
            return settings.origin ?? SIMD3(0, 0, 0)
        case .structure:
            guard let first = structure.positions.first else { return SIMD3(0, 0, 0) }
            var low = first, high = first
            for p in structure.positions { low = pointwiseMin(low, p); high = pointwiseMax(high, p) }
            let centre = (low + high) / 2
            let zHalf = settings.depth > 1 ? (settings.zExtent ?? settings.extent) / 2 : 0
            return SIMD3(centre.x - settings.extent / 2, centre.y - settings.extent / 2, centre.z - zHalf)
        }
    }

    /// Each atom's channel and weight; nil leaves the atom out of the image.
    func channelAndWeight(_ symbol: String) -> (Int, Float)? {
        switch settings.channels {
        case .single:
            return (0, 1)
        case .species(let list):
            return list.firstIndex(of: symbol).map { ($0, 1) }
        case .descriptor(_, let weights):
            if Structure.isDummy(symbol) { return nil }
            return weights[symbol].map { (0, Float($0)) }
        }
    }

    /// Every atom has a weight when the channels are descriptor-weighted: checked up front so
    /// rendering cannot fail half-way.
    func checkWeights(_ structure: Structure) throws {
        guard case .descriptor(let name, let weights) = settings.channels else { return }
        for symbol in Set(structure.symbols) where !Structure.isDummy(symbol) && weights[symbol] == nil {
            throw RasterError(field: "channels", message: "no '\(name)' weight for element \(symbol)")
        }
    }

    /// The grid one render fills: n×n pixels `h` apart (and the settings' z-slices) from `origin`.
    struct Grid {
        let origin: SIMD3<Double>
        let n: Int
        let h: Double
        let depth: Int
        let hz: Double
        var high: SIMD3<Double> { origin + SIMD3(h * Double(n - 1), h * Double(n - 1), hz * Double(max(depth - 1, 0))) }

        /// Whether a Gaussian at `p` reaching `reach` Å touches the grid: the one test of an atom
        /// being on it (z only counts with z-slices).
        func touches(_ p: SIMD3<Double>, reach: Double) -> Bool {
            let low = origin, high = high
            if p.x + reach < low.x || p.x - reach > high.x || p.y + reach < low.y || p.y - reach > high.y { return false }
            return depth == 1 || !(p.z + reach < low.z || p.z - reach > high.z)
        }
    }

    /// Atom copies one structure makes the rasteriser visit, within `RasterBudget.atomCopies`.
    func checkWork(atomCopies: Double) throws {
        guard atomCopies <= Double(RasterBudget.atomCopies) else {
            throw RasterError(field: "structure", message: "\(String(format: "%.3g", atomCopies)) atom copies to visit "
                              + "(atoms × periodic copies, × atoms again for patches); the budget is \(RasterBudget.atomCopies) per structure")
        }
    }

    /// The image of `structure`'s atoms (and their `translations`) on one grid. Channels of
    /// atoms and the settings are checked before, so this only adds Gaussians.
    func render(_ symbols: [String], _ copies: PeriodicCopies, grid: Grid) -> RasterImage {
        let n = grid.n
        var image = RasterImage(channels: settings.channelCount, height: n, width: n)
        var factors = AxisFactors(n: n, depth: grid.depth)
        var outside = 0
        image.pixels.withUnsafeMutableBufferPointer { pixels in
            for (atom, symbol) in symbols.enumerated() {
                guard let (channel, weight) = channelAndWeight(symbol) else { continue }
                var reached = false
                for shift in copies.translations {
                    let p = copies.positions[atom] + shift
                    guard computeFactors(at: p, grid: grid, into: &factors) else { continue }
                    reached = true
                    addOuterProduct(factors, channel: channel, weight: weight, grid: grid, into: pixels)
                }
                if !reached { outside += 1 }
            }
        }
        image.atomsOutside = outside
        return image
    }

    /// One atom copy's 1-D Gaussian factors along x, y (and z) and the pixel ranges they cover.
    struct AxisFactors {
        var gx: [Float], gy: [Float], gz: [Float]
        var xs = 0..<0, ys = 0..<0, zs = 0..<1
        init(n: Int, depth: Int) {
            gx = [Float](repeating: 0, count: n)
            gy = [Float](repeating: 0, count: n)
            gz = [Float](repeating: 1, count: depth)
        }
    }

    /// Fills `factors` for a copy at `p`; false when its Gaussian box misses the grid.
    func computeFactors(at p: SIMD3<Double>, grid: Grid, into factors: inout AxisFactors) -> Bool {
        guard grid.touches(p, reach: cutoff) else { return false }
        let low = grid.origin
        guard let xs = gaussianFactor(p.x, low.x, grid.h, grid.n, into: &factors.gx),
              let ys = gaussianFactor(p.y, low.y, grid.h, grid.n, into: &factors.gy) else { return false }
        factors.xs = xs
        factors.ys = ys
        factors.zs = 0..<1
        if grid.depth > 1 {
            guard let zs = gaussianFactor(p.z, low.z, grid.hz, grid.depth, into: &factors.gz) else { return false }
            factors.zs = zs
        }
        return true
    }

    /// The 1-D factor along one axis: the pixel range in reach of the atom and its Gaussian
    /// values. On an even grid, exp(−(d+h)²/2σ²) = exp(−d²/2σ²)·exp(−(2dh+h²)/2σ²), and that
    /// ratio itself shrinks by exp(−h²/σ²) each step, so three exponentials serve a whole row.
    func gaussianFactor(_ centre: Double, _ start: Double, _ step: Double, _ count: Int, into g: inout [Float]) -> Range<Int>? {
        let inverseTwoSigmaSquared = 1 / (2 * settings.sigma * settings.sigma)
        // Clamped in Double before conversion, so no coordinate can trap the conversion to Int.
        let firstIndex = ((centre - cutoff - start) / step).rounded(.up)
        let lastIndex = ((centre + cutoff - start) / step).rounded(.down)
        guard firstIndex.isFinite, lastIndex.isFinite else { return nil }
        let first = Int(max(0, min(firstIndex, Double(count))))
        let last = Int(min(Double(count - 1), max(lastIndex, -1)))
        guard first <= last else { return nil }
        let d0 = start + Double(first) * step - centre
        var value = expDouble(-d0 * d0 * inverseTwoSigmaSquared)
        var ratio = expDouble(-(2 * d0 * step + step * step) * inverseTwoSigmaSquared)
        let ratioStep = expDouble(-2 * step * step * inverseTwoSigmaSquared)
        for i in first...last {
            g[i] = Float(value)
            value *= ratio
            ratio *= ratioStep
        }
        return first..<(last + 1)
    }

    /// Adds weight · gz ⊗ gy ⊗ gx to the channel's planes, row by row over contiguous pixels
    /// through raw pointers so the inner loop vectorises.
    func addOuterProduct(_ f: AxisFactors, channel: Int, weight: Float, grid: Grid, into pixels: UnsafeMutableBufferPointer<Float>) {
        guard let pixelBase = pixels.baseAddress else { return }
        let n = grid.n, depth = grid.depth
        f.gx.withUnsafeBufferPointer { gxBuffer in
            guard let gxStart = gxBuffer.baseAddress else { return }
            let gxBase = gxStart + f.xs.lowerBound
            let width = f.xs.count
            for z in f.zs {
                let plane = (channel * depth + z) * n * n
                let wz = weight * (depth > 1 ? f.gz[z] : 1)
                for y in f.ys {
                    let row = pixelBase + plane + y * n + f.xs.lowerBound
                    let wy = wz * f.gy[y]
                    for x in 0..<width { row[x] += wy * gxBase[x] }
                }
            }
        }
    }

}

#if canImport(Glibc)
import Glibc
@inline(__always) func expDouble(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Foundation
@inline(__always) func expDouble(_ x: Double) -> Double { Foundation.exp(x) }
#endif
