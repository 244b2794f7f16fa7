import Foundation
import Testing
import TestSupport
@testable import Networks
@testable import Structures


@Suite(.serialized)
struct PeriodicSlabTests {
    /// `ryczko` on periodic fcc(111) slabs under mpirun: trains, writes the swap decomposition
    /// at the sites the geometry rule finds, and `decompose` reproduces it.
    @Test func theImageCNNTrainsAndDecomposesPeriodicSlabsOnTwoRanks() throws {
        let folder = try temporaryFolder("sitelens-slabs")
        let bindingEffect = ["Cu": 0.0, "Pt": -0.4, "Au": 0.3]
        let data = try writeSlabs(16, metals: ["Cu", "Pt", "Au"], firstSeed: 1, in: folder) { symbols, _ in
            let binding = 2 * 9 + 4   // the top-layer atom under the adsorbate
            return bindingEffect[symbols[binding]]! + 0.01 * Double(count("Pt", in: symbols))
        }
        let run = folder.appendingPathComponent("run")
        let common = ["--site-rule", "adsorbate-shells"]
        let train = try mpirun(2, sitelens, ["train", data.path, "--model", "ryczko", "--grid", "16", "--extent", "9",
                                             "--channels", "species", "--blocks", "1", "--dense", "16", "--epochs", "3",
                                             "--batch-size", "4", "--ensemble", "2", "--run-dir", run.path] + common, timeout: 600)
        #expect(train.status == 0, "\(train.stderr.suffix(2000))")
        #expect(train.stdout.contains("decomposition (partial dependence)"))
        let table = try String(contentsOf: run.appendingPathComponent("decomposition.csv"), encoding: .utf8)
        let bindingRows = table.split(separator: "\n").filter { $0.hasPrefix("binding,") }
        #expect(bindingRows.count == 3, "\(table)")
        #expect(table.contains("shell1,") && table.contains("subsurface,") && !table.contains("adsorbate,"))
        let again = folder.appendingPathComponent("again")
        let decompose = try mpirun(2, sitelens, ["decompose", "--run", run.path, data.path, "--out", again.path] + common)
        #expect(decompose.status == 0, "\(decompose.stderr.suffix(2000))")
        #expect(try String(contentsOf: again.appendingPathComponent("decomposition.csv"), encoding: .utf8) == table)
    }
}
