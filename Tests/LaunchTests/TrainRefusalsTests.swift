import Foundation
import Testing
import TestSupport

/// `train` says when it has not learnt, chooses the `ryczko` box from the data, and refuses a
/// fixed box that leaves atoms off the grid.
struct TrainRefusalsTests {

    @Test func anUnderfitRunSaysSoAndAGoodRunDoesNot() throws {
        let folder = try temporaryFolder("sitelens-not-learnt")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("sites.csv")
        #expect(try runProcess(sitelens, ["generate", "--out", data.path, "--structures", "200"]).status == 0)
        func run(_ name: String, epochs: Int) throws -> ProcessOutcome {
            try runProcess(sitelens, ["train", data.path, "--epochs", "\(epochs)", "--seed", "2", "--print-every", "100000",
                                      "--run-dir", folder.appendingPathComponent(name).path], timeout: 300)
        }
        let underfit = try run("underfit", epochs: 1)
        #expect(underfit.status == 0, "\(underfit.stderr)")
        let ratio = try maeOverMean(folder.appendingPathComponent("underfit"))
        #expect(ratio >= 0.9, "one epoch is meant to underfit; test MAE / mean's \(ratio)")
        #expect(underfit.stdout.contains("warning: the model has not learnt") && underfit.stdout.contains("--epochs, 1 here"), "\(underfit.stdout)")

        let good = try run("good", epochs: 400)
        #expect(good.status == 0, "\(good.stderr)")
        let goodRatio = try maeOverMean(folder.appendingPathComponent("good"))
        #expect(goodRatio < 0.5, "400 epochs are meant to learn; test MAE / mean's \(goodRatio)")
        #expect(!good.stdout.contains("has not learnt"), "\(good.stdout)")
    }

    /// The ensemble's test MAE over predicting the training mean's, from test-metrics.json.
    func maeOverMean(_ run: URL) throws -> Double {
        let maes = testMAEs(ofRun: run)
        let model = try #require(maes.model), mean = try #require(maes.mean)
        return model / mean
    }

    /// Lennard-Jones clusters from `generate`, each moved by (dx, dy) Å: the positions as written.
    func movedClusters(in folder: URL, dx: Double, dy: Double) throws -> (file: URL, positions: [[Double]]) {
        let plain = folder.appendingPathComponent("lj.xyz")
        #expect(try runProcess(sitelens, ["generate", "--kind", "lennard-jones", "--structures", "40", "--seed", "4", "--out", plain.path]).status == 0)
        var lines = try String(contentsOf: plain, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var positions: [[Double]] = []
        var index = 0
        while index < lines.count, let atoms = Int(lines[index]) {
            for line in (index + 2)..<(index + 2 + atoms) {
                var fields = lines[line].split(separator: " ").map(String.init)
                let (x, y) = (try #require(Double(fields[1])) + dx, try #require(Double(fields[2])) + dy)
                (fields[1], fields[2]) = ("\(x)", "\(y)")
                positions.append([x, y])
                lines[line] = fields.joined(separator: " ")
            }
            index += 2 + atoms
        }
        let moved = folder.appendingPathComponent("moved.xyz")
        try lines.joined(separator: "\n").write(to: moved, atomically: true, encoding: .utf8)
        return (moved, positions)
    }

    @Test func ryczkoDefaultsKeepEveryAtomOnTheGridAndAFixedBoxThatCropsIsRefused() throws {
        let folder = try temporaryFolder("sitelens-extent-auto")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Moved off the seed's 5 Å box at the origin, partly to negative x.
        let (data, positions) = try movedClusters(in: folder, dx: -7, dy: 3)
        let small = ["--grid", "32", "--blocks", "1", "--dense", "8", "--epochs", "1"]
        let run = folder.appendingPathComponent("auto")
        let trained = try runProcess(sitelens, ["train", data.path, "--model", "ryczko", "--run-dir", run.path] + small, timeout: 300)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("images: --extent auto:"), "\(trained.stdout)")
        // The model's box holds every atom, from the model file's own settings.
        let model = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("model/member-0.json")))
        let settings = try #require(findValue("raster", in: model) as? [String: Any], "no image raster settings in the model file")
        let extent = try #require(settings["extent"] as? Double), origin = try #require(settings["origin"] as? [Double])
        for p in positions {
            #expect(p[0] >= origin[0] && p[0] <= origin[0] + extent && p[1] >= origin[1] && p[1] <= origin[1] + extent,
                    "atom at \(p) off the box from \(origin), \(extent) Å")
        }
        let record = try String(contentsOf: run.appendingPathComponent("run.json"), encoding: .utf8)
        #expect(record.contains("\"--extent\" : \"auto: "), "run.json records the box chosen")
        // decompose reads the run's box and draws the same images: its predictions equal train's.
        let decomposed = try runProcess(sitelens, ["decompose", "--run", run.path, "--out", folder.appendingPathComponent("again").path], timeout: 300)
        #expect(decomposed.status == 0, "\(decomposed.stderr)")
        let first = try String(contentsOf: run.appendingPathComponent("predictions.csv"), encoding: .utf8)
        let second = try String(contentsOf: folder.appendingPathComponent("again/predictions.csv"), encoding: .utf8)
        #expect(first == second)

        // The seed's fixed 5 Å box at the origin holds none of these atoms: refused, naming the count and the way out.
        let refused = try runProcess(sitelens, ["train", data.path, "--model", "ryczko", "--extent", "5",
                                                "--run-dir", folder.appendingPathComponent("fixed").path] + small, timeout: 300)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("leaves \(positions.count) atoms in 40 of 40 structures") && refused.stderr.contains("moved.xyz")
                && refused.stderr.contains("--extent auto"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("fixed/run.json").path))
    }

    /// The first value under `key` anywhere in a decoded JSON tree.
    func findValue(_ key: String, in tree: Any) -> Any? {
        if let object = tree as? [String: Any] {
            if let value = object[key] { return value }
            for value in object.values { if let found = findValue(key, in: value) { return found } }
        }
        if let array = tree as? [Any] { for value in array { if let found = findValue(key, in: value) { return found } } }
        return nil
    }
}
