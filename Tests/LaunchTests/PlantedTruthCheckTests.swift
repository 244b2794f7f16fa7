import Foundation
import Testing
import TestSupport

/// The demo's check of a decomposition against the planted truth
/// (`Launch/reference/compare_truth.py`), on a site network trained for a few seconds: it agrees
/// with the truth, and a decomposition of other data does not.
struct PlantedTruthCheckTests {
    let script = repositoryRoot().appendingPathComponent("Launch/reference/compare_truth.py").path

    func correlation(_ output: String) -> Double? {
        output.components(separatedBy: "correlation ").last.flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    @Test(.enabled(if: pythonHas("csv"), "needs python3"))
    func aTrainedDecompositionMatchesThePlantedTruth() throws {
        let folder = try temporaryFolder("sitelens-truth")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sites.csv")
        #expect(try runProcess(sitelens, ["generate", "--out", data.path, "--structures", "300"]).status == 0)
        let run = folder.appendingPathComponent("run")
        let trained = try runProcess(sitelens, ["train", data.path, "--epochs", "150", "--learning-rate", "0.01",
                                                "--print-every", "150", "--run-dir", run.path], timeout: 300)
        #expect(trained.status == 0, "\(trained.stderr)")
        let check = try runProcess("python3", [script, folder.appendingPathComponent("truth.csv").path,
                                               run.appendingPathComponent("decomposition.csv").path])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("50 (site, element) pairs"), "\(check.stdout)")
        #expect((correlation(check.stdout) ?? 0) > 0.95, "\(check.stdout)")
        // A truth that is not this data's (each site's values moved to the next site) must not match.
        let truth = try String(contentsOf: folder.appendingPathComponent("truth.csv"), encoding: .utf8).split(separator: "\n")
        let sites = Array(Set(truth.dropFirst().map { String($0.split(separator: ",")[0]) })).sorted()
        let moved = [truth[0]] + truth.dropFirst().map { line -> Substring in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            let next = sites[(sites.firstIndex(of: String(fields[0]))! + 1) % sites.count]
            return ([Substring(next)] + fields.dropFirst()).joined(separator: ",")[...]
        }
        let shuffled = folder.appendingPathComponent("shuffled.csv")
        try (moved.joined(separator: "\n") + "\n").write(to: shuffled, atomically: true, encoding: .utf8)
        let wrong = try runProcess("python3", [script, shuffled.path, run.appendingPathComponent("decomposition.csv").path])
        #expect((correlation(wrong.stdout) ?? 1) < 0.8, "a truth with its sites moved still matched: \(wrong.stdout)")
    }
}
