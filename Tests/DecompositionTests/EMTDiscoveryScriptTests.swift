import Foundation
import Structures
import Testing
import TestSupport

/// `emt_slabs.py discover`, the screening check against EMT (Benchmarks.md): a prediction equal to
/// the calculator's energies finds all of its top K, one ordered the other way finds none, and
/// predictions that do not match the candidates are refused.
@Suite struct EMTDiscoveryScriptTests {
    @Test(.enabled(if: pythonHas("ase", "numpy"), "needs ASE and NumPy (pip install ase)"))
    func perfectAndReversedPredictionsFindAllAndNone() throws {
        let folder = try temporaryFolder("sitelens-discover")
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = repositoryRoot().appendingPathComponent("Launch/reference/emt_slabs.py").path
        let path = { (name: String) in folder.appendingPathComponent(name).path }
        for (name, count, seed) in [("train.xyz", "30", "1"), ("fresh.xyz", "24", "2")] {
            let made = try runProcess("python3", [script, "generate", "--structures", count, "--seed", seed, "--limit", "0",
                                                  "--out", path(name), "--truth", path(name + ".csv")], timeout: 300)
            #expect(made.status == 0, "\(made.stderr)")
        }
        let energies = try StructureSource(path: path("fresh.xyz")).load().structures.map { try #require($0.energy) }
        func predictions(_ name: String, _ values: [Double]) throws -> String {
            let rows = values.enumerated().map { "\($0.offset + 1),unseen,,\($0.element)" }
            try (["structure,split,target,mean"] + rows).joined(separator: "\n").write(toFile: path(name), atomically: true, encoding: .utf8)
            return path(name)
        }
        let perfect = try predictions("perfect.csv", energies), reversed = try predictions("reversed.csv", energies.map { -$0 })
        let short = try predictions("short.csv", Array(energies.dropLast()))
        let checked = try runProcess("python3", [script, "discover", "--train", path("train.xyz"), "--candidates", path("fresh.xyz"),
                                                 "--top", "5", perfect, reversed], timeout: 300)
        #expect(checked.status == 0, "\(checked.stderr)")
        let rows = checked.stdout.split(separator: "\n")
        let perfectRow = try #require(rows.first { $0.hasPrefix(perfect) }), reversedRow = try #require(rows.first { $0.hasPrefix(reversed) })
        #expect(perfectRow.contains(" 5/5 ") && perfectRow.hasSuffix(" 1"), "\(perfectRow)")
        #expect(reversedRow.contains(" 0/5 ") && reversedRow.hasSuffix(" 24"), "\(reversedRow)")
        let refused = try runProcess("python3", [script, "discover", "--train", path("train.xyz"), "--candidates", path("fresh.xyz"), "--top", "5", short])
        #expect(refused.status != 0 && refused.stderr.contains("23 predictions for 24 candidates"), "\(refused.stderr)")
    }
}
