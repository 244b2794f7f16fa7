import Basics
import Foundation
import Testing
@testable import Images
@testable import Structures

/// The radial patch: Gaussians of each neighbour's distance on a 1-D grid, per species channel.
struct RadialPatchTests {
    func settings(sigma: Double = 0.1, channels: RasterSettings.Channels = .species(["Ar"])) -> RasterSettings {
        var settings = RasterSettings()
        settings.sigma = sigma
        settings.channels = channels
        return settings
    }

    /// The direct formula in Double: Σ_neighbours exp(−(k·Δr − r)²/2σ²), no cutoff.
    func direct(distances: [Double], bins: Int, spacing: Double, sigma: Double) -> [Double] {
        (0..<bins).map { k in distances.reduce(0) { $0 + exp(-pow(Double(k) * spacing - $1, 2) / (2 * sigma * sigma)) } }
    }

    @Test func twoAtomsPeakAtTheirDistanceWithHeightOne() throws {
        // 1.25 Å apart at Δr = 0.05 Å: bin 25 holds exactly the distance, so its value is exp(0) = 1.
        let structure = Structure(symbols: ["Ar", "Ar"], positions: [SIMD3(0.3, 0.4, 0), SIMD3(0.3 + 0.75, 0.4 + 1.0, 0)])
        let radial = try RadialRasteriser(settings: settings(), bins: 61, spacing: 0.05)
        let (atoms, images) = try radial.patches(of: structure)
        #expect(atoms == [0, 1])
        for image in images {
            #expect(image.height == 1 && image.width == 61 && image.channels == 1)
            let peak = image.pixels.indices.max { image.pixels[$0] < image.pixels[$1] }
            #expect(peak == 25)
            #expect(abs(image.pixels[25] - 1) < 1e-6)
            let reference = direct(distances: [1.25], bins: 61, spacing: 0.05, sigma: 0.1)
            #expect(zip(image.pixels, reference).allSatisfy { abs(Double($0) - $1) < 1e-6 }, "\(image.pixels)")
        }
        // Off-grid: 1.27 Å peaks at bin 25 (1.25 Å) with exp(−0.02²/2σ²), 1.28 Å at bin 26.
        let offGrid = Structure(symbols: ["Ar", "Ar"], positions: [.zero, SIMD3(1.27, 0, 0)])
        let pixels = try radial.patches(of: offGrid).images[0].pixels
        #expect(abs(Double(pixels[25]) - exp(-0.0004 / 0.02)) < 1e-6)
        #expect(pixels[25] > pixels[26])
    }

    @Test func rotationsAndTranslationsLeaveThePatchesUnchanged() throws {
        var generator = SeededGenerator(seed: 3)
        let positions = (0..<8).map { _ in SIMD3(generator.uniform(0, 4), generator.uniform(0, 4), generator.uniform(0, 2)) }
        let symbols = ["Cu", "Pt", "Cu", "Cu", "Pt", "Cu", "Pt", "Cu"]
        let radial = try RadialRasteriser(settings: settings(sigma: 0.08, channels: .species(["Cu", "Pt"])), bins: 90, spacing: 0.05)
        let original = try radial.patches(of: Structure(symbols: symbols, positions: positions)).images
        // A rotation about an oblique axis and a shift.
        let (a, b) = (0.7, -1.1)
        func rotate(_ p: SIMD3<Double>) -> SIMD3<Double> {
            let q = SIMD3(p.x * cos(a) - p.y * sin(a), p.x * sin(a) + p.y * cos(a), p.z)
            return SIMD3(q.x, q.y * cos(b) - q.z * sin(b), q.y * sin(b) + q.z * cos(b)) + SIMD3(3.3, -7.1, 0.4)
        }
        let moved = try radial.patches(of: Structure(symbols: symbols, positions: positions.map(rotate))).images
        var worst: Float = 0
        for (p, q) in zip(original, moved) { worst = max(worst, zip(p.pixels, q.pixels).map { abs($0 - $1) }.max() ?? 0) }
        #expect(worst < 1e-5, "largest difference \(worst)")
        // A square patch of the same structure does change under the rotation (the test can tell).
        var square = settings(sigma: 0.2, channels: .species(["Cu", "Pt"]))
        square.depth = 1
        let planar = try Rasteriser(settings: square)
        let before = try planar.patches(of: Structure(symbols: symbols, positions: positions), patchSize: 17, spacing: 0.35).images[0]
        let after = try planar.patches(of: Structure(symbols: symbols, positions: positions.map(rotate)), patchSize: 17, spacing: 0.35).images[0]
        #expect(zip(before.pixels, after.pixels).map { abs($0 - $1) }.max() ?? 0 > 0.1)
    }

    @Test func speciesGoToTheirOwnChannels() throws {
        // Cu at the origin, Pt 1 Å along x, Cu 2 Å along y.
        let structure = Structure(symbols: ["Cu", "Pt", "Cu"], positions: [.zero, SIMD3(1, 0, 0), SIMD3(0, 2, 0)])
        let radial = try RadialRasteriser(settings: settings(channels: .species(["Cu", "Pt"])), bins: 50, spacing: 0.1)
        let (atoms, images) = try radial.patches(of: structure)
        #expect(atoms == [0, 1, 2] && images[0].channels == 2)
        let copper = Array(images[0].pixels[0..<50]), platinum = Array(images[0].pixels[50..<100])
        let expectedCopper = direct(distances: [2], bins: 50, spacing: 0.1, sigma: 0.1)
        let expectedPlatinum = direct(distances: [1], bins: 50, spacing: 0.1, sigma: 0.1)
        #expect(zip(copper, expectedCopper).allSatisfy { abs(Double($0) - $1) < 1e-6 })
        #expect(zip(platinum, expectedPlatinum).allSatisfy { abs(Double($0) - $1) < 1e-6 })
        // The Pt atom sees both Cu atoms (1 Å and √5 Å) in channel 0 and no Pt.
        let seenByPlatinum = direct(distances: [1, 5.0.squareRoot()], bins: 50, spacing: 0.1, sigma: 0.1)
        #expect(zip(images[1].pixels[0..<50], seenByPlatinum).allSatisfy { abs(Double($0) - $1) < 1e-6 })
        #expect(images[1].pixels[50..<100].allSatisfy { $0 == 0 })
        // A dummy marker gets no patch of its own but is seen in its channel.
        let marked = Structure(symbols: ["Cu", "X"], positions: [.zero, SIMD3(0, 0, 1.5)])
        let withMarker = try RadialRasteriser(settings: settings(channels: .species(["Cu", "X"])), bins: 30, spacing: 0.1)
        let (markedAtoms, markedImages) = try withMarker.patches(of: marked)
        #expect(markedAtoms == [0] && abs(markedImages[0].pixels[30 + 15] - 1) < 1e-6)
    }

    @Test func periodicImagesAcrossTheCellEdgeAreCounted() throws {
        // A 4 Å square cell, periodic in x and y: the atoms at x = 0.2 and 3.6 are 0.6 Å apart
        // across the edge; along y each atom also sees its own copies 4 Å away.
        let cell = [SIMD3(4.0, 0, 0), SIMD3(0, 4.0, 0), SIMD3(0, 0, 10)]
        let structure = Structure(symbols: ["Ar", "Ar"], positions: [SIMD3(0.2, 1, 0), SIMD3(3.6, 1, 0)], cell: cell, pbc: [true, true, false])
        let radial = try RadialRasteriser(settings: settings(sigma: 0.05), bins: 61, spacing: 0.05)  // reach 3 Å
        let image = try radial.patches(of: structure).images[0]
        #expect(abs(image.pixels[12] - 1) < 1e-5, "neighbour across the edge at 0.6 Å: \(image.pixels[12])")
        // 3.4 Å (the same neighbour inside the cell) is beyond the 3 Å reach; 0.6 Å is the only
        // distance under 3 Å, so the patch is one Gaussian.
        let reference = direct(distances: [0.6], bins: 61, spacing: 0.05, sigma: 0.05)
        #expect(zip(image.pixels, reference).allSatisfy { abs(Double($0) - $1) < 1e-5 }, "\(image.pixels)")
        // Without periodicity the neighbour is 3.4 Å away, out of reach: an empty patch.
        let open = Structure(symbols: ["Ar", "Ar"], positions: [SIMD3(0.2, 1, 0), SIMD3(3.6, 1, 0)])
        #expect(try radial.patches(of: open).images[0].pixels.allSatisfy { $0 == 0 })
        // A reach of 4.5 Å sees the atom's own periodic copies at 4 Å (two of them, ±y and ±x: four).
        let farther = try RadialRasteriser(settings: settings(sigma: 0.05), bins: 91, spacing: 0.05)
        let single = Structure(symbols: ["Ar"], positions: [SIMD3(1, 1, 0)], cell: cell, pbc: [true, true, false])
        let own = try farther.patches(of: single).images[0]
        #expect(abs(own.pixels[80] - 4) < 1e-5, "four copies at 4 Å: \(own.pixels[80])")
        #expect(own.pixels[0] == 0, "the atom itself is not its own neighbour")
    }

    @Test func badSettingsNameTheirOption() throws {
        func field(_ bins: Int, _ spacing: Double, sigma: Double = 0.1) -> String? {
            do { _ = try RadialRasteriser(settings: settings(sigma: sigma), bins: bins, spacing: spacing); return nil } catch let error as RasterError {
                return error.field
            } catch { return "\(error)" }
        }
        #expect(field(2, 0.05) == "patch-size")
        #expect(field(5000, 0.05) == "patch-size")
        #expect(field(50, 0) == "patch-spacing")
        #expect(field(50, .nan) == "patch-spacing")
        #expect(field(50, 1e300) == "patch-spacing")
        #expect(field(50, 0.5, sigma: 0.05) == "sigma")
        #expect(field(50, 0.05, sigma: .infinity) == "sigma")
        #expect(field(50, 0.05) == nil)
        // Atoms × bins × channels within the per-structure budget.
        let radial = try RadialRasteriser(settings: settings(channels: .single), bins: 4096, spacing: 0.001)
        let many = Structure(symbols: Array(repeating: "Ar", count: 20_000), positions: Array(repeating: .zero, count: 20_000))
        #expect { try radial.patches(of: many) } throws: { ($0 as? RasterError)?.field == "patch-size" }
        // Far-away coordinates are refused before any arithmetic on them.
        let far = Structure(symbols: ["Ar", "Ar"], positions: [.zero, SIMD3(1e308, 0, 0)])
        #expect { try radial.patches(of: far) } throws: { ($0 as? RasterError)?.field == "position of atom 2" }
        // A σ whose square underflows (with bins as fine) still gives finite values.
        let narrow = try RadialRasteriser(settings: settings(sigma: 1e-200, channels: .single), bins: 10, spacing: 1e-200)
        let touching = Structure(symbols: ["Ar", "Ar"], positions: [.zero, SIMD3(0, 0, 0)])
        #expect(try narrow.patches(of: touching).images.allSatisfy { $0.pixels.allSatisfy(\.isFinite) && $0.pixels[0] == 1 })
        // A tiny periodic cell with a long reach needs too many copies: refused, not looped over.
        let tiny = Structure(symbols: ["Ar"], positions: [.zero], cell: [SIMD3(0.01, 0, 0), SIMD3(0, 0.01, 0), SIMD3(0, 0, 0.01)], pbc: [true, true, true])
        #expect { try radial.patches(of: tiny) } throws: { ($0 as? RasterError)?.field == "cell" }
    }
}
