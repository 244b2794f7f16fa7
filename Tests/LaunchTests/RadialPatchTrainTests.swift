import Foundation
import Testing
import TestSupport

/// `sitelens train --model atomic --patch-shape radial` on a few Lennard-Jones clusters: it
/// trains, saves a radial model, writes the per-atom outputs, and checks the radial reach.
struct RadialPatchTrainTests {

    @Test func trainsAndSavesARadialModel() throws {
        let folder = try temporaryFolder("sitelens-radial-train")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("lj.xyz")
        let made = try runProcess(sitelens, ["generate", "--kind", "lennard-jones", "--structures", "200", "--out", data.path])
        #expect(made.status == 0, "\(made.stderr)")
        let runDir = folder.appendingPathComponent("run")
        // 29 bins 0.1 Å apart reach 2.80 Å; the linear network at lr 10⁻² (measured: test MAE 0.29 eV
        // against the mean's 3.48 eV).
        let run = try runProcess(sitelens, ["train", data.path, "--model", "atomic", "--patch-shape", "radial", "--patch-size", "29",
                                            "--patch-spacing", "0.1", "--patch-sigma", "0.1", "--epochs", "60", "--batch-size", "8",
                                            "--learning-rate", "1e-2",
                                            "--interaction-range", "2.5", "--run-dir", runDir.path], timeout: 300)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("warning: the atomic patch"), "\(run.stdout)")
        let json = try String(contentsOf: runDir.appendingPathComponent("model/member-0.json"), encoding: .utf8)
        #expect(json.contains("radialPatches") && json.contains("\"bins\" : 29"), "\(json.prefix(2000))")
        for output in ["contributions.xyz", "test-metrics.json", "predictions.csv", "decomposition.csv"] {
            #expect(FileManager.default.fileExists(atPath: runDir.appendingPathComponent(output).path), "\(output) missing")
        }
        // It learns: the test MAE ends well below predicting the training mean.
        let (ensemble, baseline) = testMAEs(ofRun: runDir)
        #expect(ensemble != nil && baseline != nil && ensemble! < 0.3 * baseline!, "test MAE \(String(describing: ensemble)) against the mean's \(String(describing: baseline))")

        // A radial patch reaches (bins − 1) × Δr: 1.40 Å with 8 bins at 0.2 Å, short of 2.5 Å.
        let short = try runProcess(sitelens, ["train", data.path, "--model", "atomic", "--patch-shape", "radial", "--patch-size", "8",
                                              "--patch-spacing", "0.2", "--patch-sigma", "0.2", "--epochs", "1", "--interaction-range", "2.5",
                                              "--run-dir", folder.appendingPathComponent("short").path], timeout: 300)
        #expect(short.status == 0, "\(short.stderr)")
        #expect(short.stdout.contains("warning: the atomic patch reaches 1.40 Å") && short.stdout.contains("--patch-size 14 at this spacing"),
                "\(short.stdout)")

        // Radial patches use 3-D distances: an atom lifted 2 Å straight above another is not
        // merged, so neither --depth auto nor the projection warning speaks up (square patches do).
        var text = try String(contentsOf: data, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines[2].split(separator: " ").map(String.init)
        lines.insert([first[0], first[1], first[2], "2.0"].joined(separator: " "), at: 3)
        lines[0] = String((Int(lines[0]) ?? 0) + 1)
        text = lines.joined(separator: "\n")
        let lifted = folder.appendingPathComponent("lifted.xyz")
        try text.write(to: lifted, atomically: true, encoding: .utf8)
        func liftedRun(_ shape: String) throws -> ProcessOutcome {
            try runProcess(sitelens, ["train", lifted.path, "--model", "atomic", "--patch-shape", shape, "--epochs", "1",
                                      "--run-dir", folder.appendingPathComponent("lifted-\(shape)").path], timeout: 300)
        }
        let radialLifted = try liftedRun("radial"), squareLifted = try liftedRun("square")
        #expect(radialLifted.status == 0 && squareLifted.status == 0, "\(radialLifted.stderr)\(squareLifted.stderr)")
        #expect(squareLifted.stdout.contains("z-slices"), "\(squareLifted.stdout)")
        #expect(!radialLifted.stdout.contains("z-slices") && !radialLifted.stdout.contains("merge"), "\(radialLifted.stdout)")

        let bad = try runProcess(sitelens, ["train", data.path, "--model", "atomic", "--patch-shape", "radial", "--patch-size", "5000",
                                            "--run-dir", folder.appendingPathComponent("bad").path], timeout: 300)
        #expect(bad.status != 0 && bad.stderr.contains("--patch-size (radial patch distance bins) must be in 3...4096"), "\(bad.stderr)")
        let unknown = try runProcess(sitelens, ["train", data.path, "--model", "atomic", "--patch-shape", "round",
                                                "--run-dir", folder.appendingPathComponent("unknown").path], timeout: 300)
        #expect(unknown.status != 0 && unknown.stderr.contains("--patch-shape"), "\(unknown.stderr)")
    }
}
