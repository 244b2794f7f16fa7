import Basics
import Foundation
import Testing
@testable import Images
@testable import Structures

/// Atoms off a whole-image grid: `Rasteriser.atomsOutside` counts what `image(of:)` leaves out,
/// and the box `--extent auto` chooses (`DataBox`) leaves none out, wherever the atoms are.
struct GridCoverageTests {
    /// Clusters moved by `shift` Å, so some lie far from the origin (and at negative coordinates).
    func clusters(shift: SIMD3<Double>, count: Int = 40, seed: UInt64 = 5) -> LoadedStructures {
        LoadedStructures(LennardJonesClusters.generate(count: count, box: 8, seed: seed).enumerated().map { index, cluster in
            // Every other cluster moved, so the box must span both.
            let moved = index % 2 == 0 ? cluster.positions.map { $0 + shift } : cluster.positions
            return Structure(symbols: cluster.symbols, positions: moved, energy: cluster.energy)
        })
    }

    @Test(arguments: [RasterSettings.Centring.origin, .structure], [1, 3])
    func theCountIsWhatTheImageLeavesOut(centring: RasterSettings.Centring, depth: Int) throws {
        let store = clusters(shift: SIMD3(-3, 4.5, 1.5))
        let rasteriser = try Rasteriser(settings: RasterSettings(gridSize: 24, extent: 5, sigma: 0.3, centring: centring, depth: depth))
        var fromImages = GridCoverage(), total = 0
        for (index, structure) in store.structures.enumerated() {
            let outside = try rasteriser.atomsOutside(of: structure)
            #expect(outside == (try rasteriser.image(of: structure)).atomsOutside, "structure \(index)")
            fromImages.add(outside, structure: index)
            total += outside
        }
        #expect(try GridCoverage.survey(store, rasteriser: rasteriser) == fromImages)
        #expect(fromImages.atomsOutside == total)
        if centring == .origin { #expect(total > 0, "the moved clusters must fall off a 5 Å grid at the origin") }
    }

    @Test(arguments: [RasterSettings.Centring.origin, .structure], [1, 3])
    func theBoxFromTheDataHoldsEveryAtom(centring: RasterSettings.Centring, depth: Int) throws {
        let store = clusters(shift: SIMD3(-3, 4.5, 1.5))
        let fixed = RasterSettings(gridSize: 48, extent: 5, sigma: 0.3, centring: centring, depth: depth)
        let fitted = try DataBox.fitting(fixed, to: store)
        let coverage = try GridCoverage.survey(store, rasteriser: Rasteriser(settings: fitted))
        #expect(coverage.atomsOutside == 0, "\(coverage.describe(of: store.count)) with \(DataBox.describe(fitted))")
        // Every atom at least the margin inside the box, checked from the positions themselves.
        let margin = DataBox.marginSigmas * fitted.sigma
        for structure in store.structures {
            let low = structure.positions.reduce(SIMD3(repeating: Double.infinity)) { pointwiseMin($0, $1) }
            let high = structure.positions.reduce(SIMD3(repeating: -Double.infinity)) { pointwiseMax($0, $1) }
            let start = fitted.origin ?? (low + high) / 2 - SIMD3(repeating: fitted.extent / 2)
            for p in structure.positions {
                #expect(p.x - start.x >= margin - 1e-9 && start.x + fitted.extent - p.x >= margin - 1e-9)
                #expect(p.y - start.y >= margin - 1e-9 && start.y + fitted.extent - p.y >= margin - 1e-9)
            }
        }
        // One box for all under origin centring: placed on the data, not at 0.
        if centring == .origin { #expect(fitted.origin != nil && fitted.origin!.x < -2) } else { #expect(fitted.origin == nil) }
    }

    @Test func anOriginOutOfRangeIsRefused() {
        var settings = RasterSettings(gridSize: 16, extent: 5)
        settings.origin = SIMD3(.nan, 0, 0)
        #expect(throws: RasterError.self) { try settings.validate() }
        settings.origin = SIMD3(0, 2 * RasterBudget.length, 0)
        #expect(throws: RasterError.self) { try settings.validate() }
    }
}
