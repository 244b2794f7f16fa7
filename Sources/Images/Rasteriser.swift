import Structures

/// A stack of images, channels first: pixels[c][y][x] at index (c·height + y)·width + x.
public struct RasterImage: Sendable, Equatable {
    public let channels: Int
    public let height: Int
    public let width: Int
    public var pixels: [Float]

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

    /// The image of a whole structure.
    public func image(of structure: Structure) throws -> RasterImage {
        let origin = gridOrigin(for: structure)
        return try render(structure, origin: origin, gridSize: settings.gridSize, spacing: settings.spacing)
    }

    /// One image per atom, `patchSize` pixels a side at `spacing` Å, centred on that atom and
    /// holding it and every neighbour in reach. Dummy atoms get no patch of their own.
    public func patches(of structure: Structure, patchSize: Int, spacing: Double) throws -> (atoms: [Int], images: [RasterImage]) {
        let half = Double(patchSize - 1) / 2 * spacing
        var atoms: [Int] = []
        var images: [RasterImage] = []
        for (index, symbol) in structure.symbols.enumerated() where !Structure.isDummy(symbol) {
            let centre = structure.positions[index]
            let zHalf = settings.depth > 1 ? Double(settings.depth - 1) / 2 * settings.zSpacing : 0
            let origin = SIMD3(centre.x - half, centre.y - half, centre.z - zHalf)
            images.append(try render(structure, origin: origin, gridSize: patchSize, spacing: spacing))
            atoms.append(index)
        }
        return (atoms, images)
    }

    /// Where the first pixel centre sits.
    func gridOrigin(for structure: Structure) -> SIMD3<Double> {
        switch settings.centring {
        case .origin:
            return SIMD3(0, 0, 0)
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
    func channelAndWeight(_ symbol: String) throws -> (Int, Float)? {
        switch settings.channels {
        case .single:
            return (0, 1)
        case .species(let list):
            return list.firstIndex(of: symbol).map { ($0, 1) }
        case .descriptor(let name, let weights):
            if Structure.isDummy(symbol) { return nil }
            guard let w = weights[symbol] else {
                throw RasterError(field: "channels", message: "no '\(name)' weight for element \(symbol)")
            }
            return (0, Float(w))
        }
    }

    func render(_ structure: Structure, origin: SIMD3<Double>, gridSize n: Int, spacing h: Double) throws -> RasterImage {
        let depth = settings.depth
        let hz = settings.zSpacing
        var image = RasterImage(channels: settings.channelCount, height: n, width: n)
        let sigma = settings.sigma
        let cutoff = settings.cutoffSigmas * sigma
        let inverseTwoSigmaSquared = 1 / (2 * sigma * sigma)
        let translations = try periodicTranslations(structure)
        let boxLow = origin, boxHigh = origin + SIMD3(h * Double(n - 1), h * Double(n - 1), hz * Double(max(depth - 1, 0)))

        var gx = [Float](repeating: 0, count: n), gy = [Float](repeating: 0, count: n), gz = [Float](repeating: 1, count: depth)
        // The 1-D factor along one axis: the pixel range in reach of the atom and its Gaussian
        // values. On an even grid, exp(−(d+h)²/2σ²) = exp(−d²/2σ²)·exp(−(2dh+h²)/2σ²), and that
        // ratio itself shrinks by exp(−h²/σ²) each step, so three exponentials serve a whole row.
        func factor(_ centre: Double, _ start: Double, _ step: Double, _ count: Int, into g: inout [Float]) -> Range<Int>? {
            let first = max(0, Int(((centre - cutoff - start) / step).rounded(.up)))
            let last = min(count - 1, Int(((centre + cutoff - start) / step).rounded(.down)))
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

        try image.pixels.withUnsafeMutableBufferPointer { pixels in
            for (atom, symbol) in structure.symbols.enumerated() {
                guard let (channel, weight) = try channelAndWeight(symbol) else { continue }
                for shift in translations {
                    let p = structure.positions[atom] + shift
                    // Skip images whose Gaussian box misses the grid entirely.
                    if p.x + cutoff < boxLow.x || p.x - cutoff > boxHigh.x || p.y + cutoff < boxLow.y || p.y - cutoff > boxHigh.y { continue }
                    if depth > 1 && (p.z + cutoff < boxLow.z || p.z - cutoff > boxHigh.z) { continue }
                    guard let xs = factor(p.x, origin.x, h, n, into: &gx), let ys = factor(p.y, origin.y, h, n, into: &gy) else { continue }
                    var zs = 0..<1
                    if depth > 1 {
                        guard let range = factor(p.z, origin.z, hz, depth, into: &gz) else { continue }
                        zs = range
                    }
                    // The outer product gz ⊗ gy ⊗ gx, added row by row over contiguous pixels
                    // through raw pointers so the inner loop vectorises.
                    gx.withUnsafeBufferPointer { gxBuffer in
                        let gxBase = gxBuffer.baseAddress! + xs.lowerBound
                        let width = xs.count
                        for z in zs {
                            let plane = (channel * depth + z) * n * n
                            let wz = weight * (depth > 1 ? gz[z] : 1)
                            for y in ys {
                                let row = pixels.baseAddress! + plane + y * n + xs.lowerBound
                                let wy = wz * gy[y]
                                for x in 0..<width { row[x] += wy * gxBase[x] }
                            }
                        }
                    }
                }
            }
        }
        return image
    }

    /// The lattice translations whose atom copies can reach the grid: just zero unless the
    /// structure is periodic. In 2D, directions with no in-plane part are not repeated, since a
    /// projection along z would count them twice.
    func periodicTranslations(_ structure: Structure) throws -> [SIMD3<Double>] {
        guard settings.wrapPeriodic, let cell = structure.cell else { return [SIMD3(0, 0, 0)] }
        var vectors: [SIMD3<Double>] = []
        for k in 0..<3 where structure.pbc[k] {
            var v = cell[k]
            if settings.depth == 1 {
                v.z = 0
                if (v.x * v.x + v.y * v.y).squareRoot() < 1e-8 { continue }
            }
            vectors.append(v)
        }
        guard !vectors.isEmpty else { return [SIMD3(0, 0, 0)] }
        // How far a copy may move and still matter: the grid's diagonal plus the cutoff plus the
        // farthest atom's distance from the grid.
        let reach = Double(settings.gridSize) * max(settings.spacing, 1e-9) * 2 + settings.cutoffSigmas * settings.sigma
            + structure.positions.map { ($0 * $0).sum().squareRoot() }.max()! + gridOriginReach(structure)
        let heights = try latticeHeights(vectors)
        let ranges = heights.map { h -> ClosedRange<Int> in
            let m = Int((reach / h).rounded(.up)) + 1
            return -m...m
        }
        var shifts: [SIMD3<Double>] = []
        func add(_ k: Int, _ partial: SIMD3<Double>) {
            if k == vectors.count { shifts.append(partial); return }
            for i in ranges[k] { add(k + 1, partial + Double(i) * vectors[k]) }
        }
        add(0, SIMD3(0, 0, 0))
        return shifts
    }

    private func gridOriginReach(_ structure: Structure) -> Double {
        let o = gridOrigin(for: structure)
        return (o * o).sum().squareRoot()
    }

    /// For each vector, its distance to the span of the others: how far one step along it moves.
    func latticeHeights(_ vectors: [SIMD3<Double>]) throws -> [Double] {
        func gramDeterminant(_ vs: [SIMD3<Double>]) -> Double {
            switch vs.count {
            case 0: return 1
            case 1: return (vs[0] * vs[0]).sum()
            case 2:
                let a = (vs[0] * vs[0]).sum(), b = (vs[0] * vs[1]).sum(), c = (vs[1] * vs[1]).sum()
                return a * c - b * b
            default:
                let a = vs[0], b = vs[1], c = vs[2]
                let cross = SIMD3(b.y * c.z - b.z * c.y, b.z * c.x - b.x * c.z, b.x * c.y - b.y * c.x)
                let volume = (a * cross).sum()
                return volume * volume
            }
        }
        let whole = gramDeterminant(vectors)
        return try vectors.indices.map { k in
            var others = vectors
            others.remove(at: k)
            let rest = gramDeterminant(others)
            guard whole > 1e-12, rest > 1e-12 else {
                throw RasterError(field: "cell", message: "the periodic lattice vectors are degenerate (zero area or volume)")
            }
            return (whole / rest).squareRoot()
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
