import Foundation
import Testing
import TestSupport
@testable import Structures

/// Each model kind's decomposition recomputed in NumPy from a tiny run's saved outputs
/// (Launch/reference/decomposition_numpy.py, written from Docs/Method.md): the `sites` table sums
/// to every prediction; the `atomic` per-atom split sums to every prediction, with μ_e refitted by
/// least squares and the per-(site, element) means recomputed; the partial dependence of
/// `atomic` and `ryczko` recomputed from `sitelens predict` on every one-site swap. A copy of the
/// run with one value moved must make the script report a disagreement.
@Suite(.serialized)
struct DecompositionNumPyTests {
    static let script = repositoryRoot().appendingPathComponent("Launch/reference/decomposition_numpy.py").path

    /// Quick runs: 14 planted rows of three elements (12 train, 2 test), two members.
    static let options: [String: [String]] = [
        "sites": ["--model", "sites", "--epochs", "4"],
        "atomic": ["--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6", "--filters", "4", "--epochs", "2"],
        "ryczko": ["--model", "ryczko", "--grid", "16", "--extent", "9", "--centre", "structure", "--channels", "species",
                   "--blocks", "1", "--dense", "16", "--epochs", "3"],
    ]

    func reference(_ arguments: [String]) throws -> ProcessOutcome {
        try runProcess("python3", [Self.script] + arguments, timeout: 120)
    }

    /// The script agrees, and prints its largest differences (shown in the test log).
    func expectAgreement(_ arguments: [String], _ what: String) throws {
        let run = try reference(arguments)
        print("\(what):\n\(run.stdout)")
        #expect(run.status == 0 && run.stdout.contains("checks agree"), "\(what): \(run.stdout.suffix(2000)) \(run.stderr.suffix(1000))")
    }

    /// A copy of the run's tables with one value of decomposition.json moved (by `move`); the
    /// script must fail on it, naming a disagreement.
    func expectDisagreement(run: URL, _ arguments: (URL) -> [String], _ what: String, move: (inout [String: Any]) -> Void) throws {
        let copy = run.deletingLastPathComponent().appendingPathComponent(run.lastPathComponent + "-moved")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        for name in ["predictions.csv", "contributions.xyz"] where FileManager.default.fileExists(atPath: run.appendingPathComponent(name).path) {
            try? FileManager.default.removeItem(at: copy.appendingPathComponent(name))
            try FileManager.default.copyItem(at: run.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        var json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("decomposition.json"))) as? [String: Any])
        move(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: copy.appendingPathComponent("decomposition.json"))
        let outcome = try reference(arguments(copy))
        #expect(outcome.status == 1 && outcome.stdout.contains("DISAGREEMENT"), "\(what) with one value moved: \(outcome.stdout.suffix(1500))")
    }

    /// Adds `delta` to the mean contribution of the first (site, element) entry: of the swap or
    /// exact table, or of the per-atom split.
    static func moveFirstEntry(_ json: inout [String: Any], perAtom: Bool = false, by delta: Double) {
        func shifted(_ list: Any?) -> [[String: Any]] {
            var entries = list as? [[String: Any]] ?? []
            guard var first = entries.first, var contribution = first["contribution"] as? [String: Any],
                  let mean = contribution["mean"] as? Double else { return entries }
            contribution["mean"] = mean + delta
            first["contribution"] = contribution
            entries[0] = first
            return entries
        }
        guard perAtom else { json["entries"] = shifted(json["entries"]); return }
        var split = json["perAtom"] as? [String: Any] ?? [:]
        split["entries"] = shifted(split["entries"])
        json["perAtom"] = split
    }

    /// Trains a tiny run of `kind` on the planted table; returns the data file and run folder.
    func tinyRun(_ kind: String, in folder: URL) throws -> (data: String, run: URL) {
        let data = folder.appendingPathComponent("sites.csv")
        try PlantedTruth(elements: ["Fe", "Co", "Ni"]).siteTable(count: 14, seed: 4).write(to: data, atomically: true, encoding: .utf8)
        let run = folder.appendingPathComponent("run-\(kind)")
        let train = try runProcess(sitelens, ["train", data.path, "--batch-size", "4", "--ensemble", "2", "--seed", "5", "--run-dir", run.path]
                                   + (Self.options[kind] ?? []), timeout: 300)
        try #require(train.status == 0, "\(kind) training failed: \(train.stderr.suffix(2000))")
        return (data.path, run)
    }

    /// The partial dependence from `sitelens predict` on every one-site swap of the data.
    func checkSwaps(data: String, run: URL, kind: String) throws {
        let variants = run.appendingPathComponent("swapped-rows.csv"), predicted = run.appendingPathComponent("swapped-predictions.csv")
        let written = try reference(["variants", run.path, data, variants.path])
        try #require(written.status == 0, "\(written.stderr.suffix(1500))")
        let predict = try runProcess(sitelens, ["predict", "--run", run.path, variants.path, "--out", predicted.path], timeout: 300)
        try #require(predict.status == 0, "predict failed: \(predict.stderr.suffix(2000))")
        try expectAgreement(["swaps", run.path, data, predicted.path], "\(kind) partial dependence")
        try expectDisagreement(run: run, { ["swaps", $0.path, data, predicted.path] }, "\(kind) partial dependence") {
            Self.moveFirstEntry(&$0, by: 1e-3)
        }
    }

    @Test(.enabled(if: Available.numpy, "python3 cannot import numpy (Launch/test installs it with pip when it can)"),
          arguments: ["sites", "atomic", "ryczko"])
    func theDecompositionMatchesNumPy(kind: String) throws {
        let folder = try temporaryFolder("sitelens-decomposition-numpy")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (data, run) = try tinyRun(kind, in: folder)
        switch kind {
        case "sites":
            try expectAgreement(["sites", run.path, data], "sites table sums")
            try expectDisagreement(run: run, { ["sites", $0.path, data] }, "sites table sums") {
                Self.moveFirstEntry(&$0, by: 1e-3)
            }
        case "atomic":
            try expectAgreement(["atomic", run.path], "atomic per-atom split")
            try expectDisagreement(run: run, { ["atomic", $0.path] }, "atomic per-atom split") {
                Self.moveFirstEntry(&$0, perAtom: true, by: 1e-4)
            }
            try checkSwaps(data: data, run: run, kind: kind)
        default:
            try checkSwaps(data: data, run: run, kind: kind)
        }
    }
}
