import Foundation
import Testing
import TestSupport
@testable import Structures

/// `decompose --run RUN` and `predict --run RUN` read the data as the run read it: the data
/// options left out take the run's recorded values (issue 20, item 3), so the run's own
/// decomposition comes back without repeating any option.
@Suite(.serialized)
struct RunOptionReuseTests {
    func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// atomic on extxyz slabs that need `--site-rule adsorbate-shells`: `decompose --run RUN`
    /// alone (the run's data file, the run's site rule) and with the data named both reproduce it.
    @Test func decomposeReusesTheRunsSiteRuleOnExtxyz() throws {
        let folder = try temporaryFolder("sitelens-reuse-xyz")
        let data = try writeSlabs(12, metals: ["Cu", "Pt", "Au"], firstSeed: 1, in: folder) { symbols, _ in
            0.05 * Double(count("Pt", in: symbols)) - 0.03 * Double(count("Au", in: symbols))
        }
        let run = folder.appendingPathComponent("run")
        let train = try runProcess(sitelens, ["train", data.path, "--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6",
                                              "--filters", "4", "--epochs", "2", "--site-rule", "adsorbate-shells", "--run-dir", run.path],
                                   timeout: 600)
        #expect(train.status == 0, "\(train.stderr.suffix(2000))")
        let table = try text(run.appendingPathComponent("decomposition.csv"))
        #expect(table.contains("binding,") && table.contains("shell1,") && table.contains("subsurface,"), "\(table)")
        for (name, input) in [("alone", [String]()), ("named", [data.path])] {
            let again = folder.appendingPathComponent(name)
            let decompose = try runProcess(sitelens, ["decompose", "--run", run.path] + input + ["--out", again.path], timeout: 600)
            #expect(decompose.status == 0, "\(name): \(decompose.stderr.suffix(2000))")
            #expect(try text(again.appendingPathComponent("decomposition.csv")) == table, "\(name)")
        }
        // Told otherwise, the command line wins: every atom is one site under `species`' labels.
        let told = folder.appendingPathComponent("told")
        let species = try runProcess(sitelens, ["decompose", "--run", run.path, "--site-rule", "species", "--out", told.path], timeout: 600)
        #expect(species.status == 0, "\(species.stderr.suffix(2000))")
        #expect(try text(told.appendingPathComponent("decomposition.csv")) != table)
    }

    /// sites on a planted table trained with `--group` and `--sites`: `decompose` and `predict`
    /// given only the table read the same rows as training.
    @Test func decomposeAndPredictReuseTheRunsGroupOnASiteTable() throws {
        let folder = try temporaryFolder("sitelens-reuse-csv")
        let truth = try PlantedTruth()
        let csv = folder.appendingPathComponent("sites.csv")
        // 40 COOH rows the run trains on, then 10 CO rows that only a forgotten --group would read.
        let others = truth.siteTable(count: 10, seed: 5).split(separator: "\n").dropFirst().map { $0.replacingOccurrences(of: ",COOH", with: ",CO") }
        try (truth.siteTable(count: 40, seed: 3) + others.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let run = folder.appendingPathComponent("run")
        let train = try runProcess(sitelens, ["train", csv.path, "--sites", truth.siteNames.joined(separator: ","), "--group", "Adsorbate=COOH",
                                              "--epochs", "2", "--run-dir", run.path], timeout: 300)
        #expect(train.status == 0, "\(train.stderr.suffix(2000))")
        let again = folder.appendingPathComponent("again")
        let decompose = try runProcess(sitelens, ["decompose", "--run", run.path, csv.path, "--out", again.path], timeout: 300)
        #expect(decompose.status == 0, "\(decompose.stderr.suffix(2000))")
        for file in ["decomposition.csv", "predictions.csv"] {
            #expect(try text(again.appendingPathComponent(file)) == text(run.appendingPathComponent(file)), "\(file)")
        }
        let predictions = folder.appendingPathComponent("p.csv")
        let predict = try runProcess(sitelens, ["predict", "--run", run.path, csv.path, "--out", predictions.path], timeout: 300)
        #expect(predict.status == 0, "\(predict.stderr.suffix(2000))")
        #expect(try text(predictions) == text(run.appendingPathComponent("predictions.csv")))
    }
}
