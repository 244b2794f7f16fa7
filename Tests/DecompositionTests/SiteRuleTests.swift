import Basics
import Foundation
import Testing
import TestSupport
@testable import Structures

/// An fcc(111) slab, `size`×`size` atoms per layer and `layers` layers, ABC stacked with the
/// top layer highest, periodic in the plane, with an adsorbate atom above a top-layer atom.
func fcc111Slab(size: Int = 3, layers: Int = 3, nearestNeighbour d: Double = 2.75, metals: [String], seed: UInt64,
                adsorbate: String? = "O", site: String = "top") -> Structure {
    var generator = SeededGenerator(seed: seed)
    let a1 = SIMD3(d, 0, 0), a2 = SIMD3(d / 2, d * 3.0.squareRoot() / 2, 0)
    let spacing = d * (2.0 / 3.0).squareRoot()
    var symbols: [String] = [], positions: [SIMD3<Double>] = []
    for layer in 0..<layers {
        // Each layer sits over the hollows of the one below: shift by (a1 + a2)/3 per layer.
        let shift = Double(layer % 3) * (a1 + a2) / 3 + SIMD3(0, 0, 6 + Double(layer) * spacing)
        for i in 0..<size {
            for j in 0..<size {
                symbols.append(metals[generator.nextIndex(below: metals.count)])
                positions.append(Double(i) * a1 + Double(j) * a2 + shift)
            }
        }
    }
    let topCentre = positions[(layers - 1) * size * size + (size / 2) * size + size / 2]
    if let adsorbate {
        let lateral = site == "top" ? SIMD3<Double>(0, 0, 0) : (a1 + a2) / 3   // "fcc": above a hollow
        symbols.append(adsorbate)
        positions.append(topCentre + lateral + SIMD3(0, 0, site == "top" ? 1.9 : 1.2))
    }
    let top = 6 + Double(layers - 1) * spacing
    return Structure(symbols: symbols, positions: positions,
                     cell: [Double(size) * a1, Double(size) * a2, SIMD3(0, 0, top + 10)], pbc: [true, true, false])
}

/// `count` slabs of `metals` (seeds `firstSeed`, `firstSeed` + 1, ...), slab k given the energy
/// `energy(symbols, k)`, written as extxyz to `folder`/slabs.xyz; returns that file.
func writeSlabs(_ count: Int, metals: [String], firstSeed: UInt64, in folder: URL,
                energy: (_ symbols: [String], _ k: Int) -> Double) throws -> URL {
    let slabs = (0..<count).map { k -> Structure in
        var slab = fcc111Slab(metals: metals, seed: firstSeed + UInt64(k))
        slab.energy = energy(slab.symbols, k)
        return slab
    }
    let data = folder.appendingPathComponent("slabs.xyz")
    try ExtXYZ.write(slabs, to: data)
    return data
}

/// How many of `symbols` are `element`.
func count(_ element: String, in symbols: [String]) -> Int { symbols.filter { $0 == element }.count }

struct SiteRuleTests {
    @Test func adsorbateShellsFindTheTopSiteItsRingAndTheLayerBelow() throws {
        let slab = fcc111Slab(metals: ["Cu", "Pt"], seed: 2)
        let labels = try #require(try AdsorbateShells().labels(slab))
        let count = { (name: String) in labels.filter { $0 == name }.count }
        #expect(count("binding") == 1 && count("shell1") == 6 && count("subsurface") == 3 && count("adsorbate") == 1)
        // The binding atom is the one under the adsorbate; the subsurface atoms touch it.
        let binding = labels.firstIndex(of: "binding")!
        #expect(abs(slab.positions[binding].x - slab.positions.last!.x) < 1e-9)
        for atom in labels.indices where labels[atom] == "subsurface" {
            let v = slab.positions[atom] - slab.positions[binding]
            #expect(abs((v * v).sum().squareRoot() - 2.75) < 1e-6)
        }
    }

    @Test func aHollowSiteBindsThreeAtoms() throws {
        let slab = fcc111Slab(size: 4, metals: ["Au"], seed: 1, site: "fcc")
        let labels = try #require(try AdsorbateShells().labels(slab))
        #expect(labels.filter { $0 == "binding" }.count == 3)
        #expect(labels.filter { $0 == "shell1" }.count == 9)
    }

    @Test func eachRuleLabelsOrLeavesAStructureWithoutSites() throws {
        let slab = fcc111Slab(metals: ["Cu"], seed: 1), bare = fcc111Slab(metals: ["Cu"], seed: 1, adsorbate: nil)
        #expect(try SiteRule.adsorbateShells.relabel(slab).siteLabels != nil)
        #expect(try SiteRule.adsorbateShells.relabel(bare).siteLabels == nil)   // no adsorbate: no site
        #expect(try SiteRule.column.relabel(slab).siteLabels == nil)            // no 'site' column
        #expect(try SiteRule.species.relabel(bare).siteLabels == bare.symbols)
    }

    /// A frame whose labelling would measure too many pairs is refused by the reader, naming the
    /// file, the frame's line and the option, instead of running for hours.
    @Test func aHugeFrameIsRefusedByTheGeometryRule() throws {
        let side = 2_300  // 2 300 carbon + 2 300 copper: 4 600 × 2 300 > 10⁷ pairs
        var text = "\(2 * side)\nLattice=\"1000 0 0 0 1000 0 0 0 1000\" pbc=\"F F F\" energy=1\n"
        for i in 0..<side { text += "Cu \(Double(i % 48) * 2.5) \(Double(i / 48) * 2.5) 0\nC \(Double(i % 48) * 2.5) \(Double(i / 48) * 2.5) 2\n" }
        let options = ExtXYZ.Options(siteRule: .adsorbateShells)
        #expect(throws: InputError(file: "big.xyz", line: 1, field: "--site-rule adsorbate-shells",
                                   "adsorbate-shells would measure 4600 × 2300 atom pairs in this frame (2300 adsorbate-element atoms, 2300 others); at most 10000000 are allowed")) {
            try ExtXYZ.parse(text, file: "big.xyz", options: options)
        }
        // A real slab under the same option is labelled.
        let small = fcc111Slab(metals: ["Cu"], seed: 1)
        #expect(try ExtXYZ.parse(ExtXYZ.format([small]), file: "small.xyz", options: options)[0].siteLabels != nil)
    }

    /// The geometry rule finds the same sites as the EMT validation script writes in its `site`
    /// column (ASE's slabs, periodic in the plane, read back from ASE's extxyz).
    @Test(.enabled(if: pythonHas("ase", "numpy"), "needs ASE and NumPy (pip install ase)"))
    func theGeometryRuleAgreesWithTheEMTScriptsSiteColumn() throws {
        let folder = try temporaryFolder("sitelens-emt")
        let data = folder.appendingPathComponent("slabs.xyz").path
        let script = repositoryRoot().appendingPathComponent("Launch/reference/emt_slabs.py").path
        let run = try runProcess("python3", [script, "generate", "--structures", "4", "--limit", "1", "--out", data,
                                             "--truth", folder.appendingPathComponent("truth.csv").path], timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let column = try StructureSource(path: data).load()
        let geometry = try StructureSource(path: data, extxyzOptions: .init(siteRule: .adsorbateShells)).load()
        #expect(column.structures.count == 4)
        for (a, b) in zip(column.structures, geometry.structures) {
            #expect(a.siteLabels != nil && a.siteLabels == b.siteLabels)
            #expect(a.cell != nil && a.pbc == [true, true, false] && a.energy != nil)
        }
    }
}
