import Basics
import Foundation
import Testing
@testable import Images
@testable import Structures

/// Settings and structures that once trapped or allocated without bound (issue 10).
struct HostileRasterTests {
    func field(_ settings: RasterSettings) -> String? {
        do { try settings.validate(); return nil } catch { return (error as? RasterError)?.field }
    }

    @Test func settingsOutOfRangeNameTheirOption() {
        #expect(field(RasterSettings(sigma: 1e300)) == "sigma")
        #expect(field(RasterSettings(sigma: 1e-300)) == "sigma")
        #expect(field(RasterSettings(extent: 1e308)) == "extent")
        #expect(field(RasterSettings(gridSize: 3_037_000_500)) == "grid")
        #expect(field(RasterSettings(gridSize: 100_000)) == "grid")
        #expect(field(RasterSettings(gridSize: 4096, depth: 8)) == "grid")
        #expect(field(RasterSettings(cutoffSigmas: .infinity)) == "cutoff")
        #expect(field(RasterSettings(depth: 1_000_000)) == "depth")
        #expect(field(RasterSettings(channels: .species(["Xx"]))) == "species")
        #expect(field(RasterSettings(depth: Int.max / 2, channels: .species(["Cu", "Pt", "Au"]))) == "depth")
        #expect(field(.seedExample) == nil)
    }

    @Test func anEmptyPeriodicStructureGivesAnEmptyImage() throws {
        let empty = Structure(symbols: [], positions: [], cell: [SIMD3(5, 0, 0), SIMD3(0, 5, 0), SIMD3(0, 0, 5)], pbc: [true, true, true])
        let image = try Rasteriser(settings: RasterSettings(gridSize: 8)).image(of: empty)
        #expect(image.pixels.allSatisfy { $0 == 0 } && image.atomsOutside == 0)
    }

    @Test func farCoordinatesAndTinyCellsAreRefusedBeforeAllocating() throws {
        let rasteriser = try Rasteriser(settings: RasterSettings(gridSize: 16))
        let far = Structure(symbols: ["Cu"], positions: [SIMD3(1e308, 0, 0)], cell: [SIMD3(5, 0, 0), SIMD3(0, 5, 0), SIMD3(0, 0, 5)], pbc: [true, true, true])
        #expect { try rasteriser.image(of: far) } throws: { ($0 as? RasterError)?.field == "position of atom 1" }
        let tiny = Structure(symbols: ["Cu"], positions: [.zero], cell: [SIMD3(0.01, 0, 0), SIMD3(0, 0.01, 0), SIMD3(0, 0, 5)], pbc: [true, true, false])
        #expect { try rasteriser.image(of: tiny) } throws: { error in
            guard let error = error as? RasterError else { return false }
            return error.field == "cell" && error.message.contains("budget is \(RasterBudget.periodicCopies)")
        }
    }

    /// An atom written many cells away is wrapped into the cell: same image, few copies.
    @Test(arguments: [1, 5])
    func farPeriodicAtomsGiveTheImageOfTheirWrappedSelves(depth: Int) throws {
        let cell = [SIMD3(4.0, 0, 0), SIMD3(1.5, 3.5, 0), SIMD3(0.5, 0, 6)]
        let near = Structure(symbols: ["Cu", "Pt"], positions: [SIMD3(1, 1, 1), SIMD3(2.5, 2, 3)], cell: cell, pbc: [true, true, depth > 1])
        var far = near
        far.positions[1] += 300 * cell[0] - 200 * cell[1] + (depth > 1 ? 50 * cell[2] : .zero)
        let settings = RasterSettings(gridSize: 24, extent: 6, sigma: 0.4, depth: depth, zExtent: depth > 1 ? 5 : nil)
        let rasteriser = try Rasteriser(settings: settings)
        let (a, b) = (try rasteriser.image(of: near), try rasteriser.image(of: far))
        let largest = zip(a.pixels, b.pixels).map { abs($0 - $1) }.max() ?? 0
        #expect(largest <= 1e-4 * (a.pixels.max() ?? 1), "largest difference \(largest)")
        #expect(a.pixels.contains { $0 > 0.5 })
    }

    /// In 2D an oblique periodic third vector is dropped when it repeats the in-plane lattice,
    /// and refused, naming the cell, when it does not.
    @Test func obliqueThirdVectorsIn2D() throws {
        let rasteriser = try Rasteriser(settings: RasterSettings(gridSize: 16, extent: 5, sigma: 0.4))
        func slab(_ c: SIMD3<Double>) -> Structure {
            Structure(symbols: ["Cu"], positions: [SIMD3(1, 1, 1)], cell: [SIMD3(4, 0, 0), SIMD3(0, 4, 0), c], pbc: [true, true, true])
        }
        let upright = try rasteriser.image(of: slab(SIMD3(0, 0, 6)))
        #expect(try rasteriser.image(of: slab(SIMD3(4, 0, 6))).pixels == upright.pixels)
        #expect { try rasteriser.image(of: slab(SIMD3(1.3, 0, 6))) } throws: { ($0 as? RasterError)?.field == "cell" }
    }

    @Test func atomsOutsideTheGridAreCountedNotDroppedSilently() throws {
        let rasteriser = try Rasteriser(settings: RasterSettings(gridSize: 16))
        let structure = Structure(symbols: ["Cu", "Cu"], positions: [SIMD3(1, 1, 0), SIMD3(500, 500, 0)])
        let image = try rasteriser.image(of: structure)
        #expect(image.atomsOutside == 1)
        #expect(image.pixels.contains { $0 > 0 })
    }

    @Test func patchGeometryHasBounds() throws {
        let rasteriser = try Rasteriser(settings: RasterSettings(sigma: 0.4, channels: .species(["Cu"])))
        let structure = Structure(symbols: ["Cu"], positions: [.zero])
        #expect { try rasteriser.patches(of: structure, patchSize: 1000, spacing: 0.35) } throws: { ($0 as? RasterError)?.field == "patch-size" }
        #expect { try rasteriser.patches(of: structure, patchSize: 17, spacing: 0) } throws: { ($0 as? RasterError)?.field == "patch-spacing" }
        #expect(try rasteriser.patches(of: structure, patchSize: 17, spacing: 0.35).images.count == 1)
    }

    @Test func speciesAbsentFromTheDataAreRefused() throws {
        let settings = RasterSettings(channels: .species(["Cu", "Au"]))
        #expect { try settings.checkChannels(present: ["Cu"]) } throws: { ($0 as? RasterError)?.message.contains("no atom of Au") == true }
    }
}
