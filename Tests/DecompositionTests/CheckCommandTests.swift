import Foundation
import Testing
import TestSupport
@testable import Structures

/// `sitelens check`: `train`'s dry run reports what the data holds and what training would
/// cost, from the same options, and trains and writes nothing.
struct CheckCommandTests {
    @Test func checkSummarisesSlabsWithTheirSiteLabelsAndWritesNothing() throws {
        let folder = try temporaryFolder("sitelens-check")
        let slabs = (0..<10).map { k -> Structure in
            var slab = fcc111Slab(metals: ["Cu", "Pt"], seed: UInt64(k + 1))
            slab.energy = -10 - Double(k) * 0.25
            return slab
        }
        let data = folder.appendingPathComponent("slabs.xyz")
        try ExtXYZ.write(slabs, to: data)
        let outcome = try runProcess(sitelens, ["check", data.path, "--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6",
                                                "--epochs", "3", "--ensemble", "2", "--site-rule", "adsorbate-shells"],
                                     directory: folder, timeout: 300)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let text = outcome.stdout
        #expect(text.contains("sitelens train: atomic model, 10 structures"), "\(text)")
        #expect(text.contains("structures: 10, 10 with an energy"))
        #expect(text.contains("energies: -12.250000 to -10.000000 eV, mean -11.125000 eV"), "\(text)")
        for element in ["Cu", "Pt"] {
            let atoms = slabs.reduce(0) { $0 + $1.symbols.filter { $0 == element }.count }
            let holding = slabs.filter { $0.symbols.contains(element) }.count
            #expect(text.contains("\(element) \(atoms) atoms in \(holding) structures"), "\(element): \(text)")
        }
        #expect(text.contains("site labels: ") && text.contains("binding 10") && text.contains("shell1 ") && text.contains("subsurface "), "\(text)")
        #expect(text.contains("work: 2 members × 3 epochs × "), "\(text)")
        #expect(text.contains("model: ") && text.contains("memory: ~"))
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(left == ["slabs.xyz"], "check wrote \(left)")
    }
}
