import Basics
import Networks
import Structures
import Testing

/// The linear baselines' features (issue 25 item 7) on hand-made labelled structures.
struct SiteElementCountsTests {
    /// A binding atom and three first-shell atoms of Cu or Pt; the energy has an additive part
    /// and one interaction: Pt at the binding site pulls by 0.1 eV per Cu neighbour.
    func structures(_ count: Int) -> [Structure] {
        var generator = SeededGenerator(seed: 4)
        return (0..<count).map { _ in
            let symbols = (0..<4).map { _ in generator.nextIndex(below: 2) == 0 ? "Cu" : "Pt" }
            let copper = symbols.dropFirst().filter { $0 == "Cu" }.count
            let energy = -1 + 0.3 * Double(copper) + (symbols[0] == "Pt" ? 0.2 - 0.1 * Double(copper) : 0)
            return Structure(symbols: symbols, positions: (0..<4).map { SIMD3(Double($0), 0, 0) }, energy: energy,
                             siteLabels: ["binding", "shell1", "shell1", "shell1"])
        }
    }

    func largestResidual(_ data: [Structure], pairwise: Bool) throws -> Double {
        let counts = try #require(SiteElementCounts(data, pairwise: pairwise))
        let rows = data.map(counts.features)
        let fit = try LinearLeastSquares(rows: rows, targets: data.map { $0.energy ?? .nan })
        return zip(rows, data).map { abs(fit.predict($0) - ($1.energy ?? .nan)) }.max() ?? .infinity
    }

    @Test func pairwiseTermsFitTheBindingSitesInteractionThatCountsAloneCannot() throws {
        let data = structures(60)
        #expect(try largestResidual(data, pairwise: false) > 0.05)
        #expect(try largestResidual(data, pairwise: true) < 1e-9)
        let counts = try #require(SiteElementCounts(data, pairwise: true))
        #expect(counts.columns.contains("binding Pt × shell1 Cu") && counts.columns.contains("shell1 Cu"))
        #expect(!counts.columns.contains { $0.hasPrefix("shell1 Cu ×") }, "shell1 holds three atoms: no pairwise row of its own")
        #expect(counts.features(data[0]).first == 1)
    }

    @Test func unlabelledStructuresHaveNoSiteBaseline() {
        let plain = Structure(symbols: ["Cu"], positions: [.zero], energy: 0)
        #expect(SiteElementCounts([plain]) == nil)
    }
}
