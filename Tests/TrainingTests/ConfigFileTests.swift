@testable import Basics
import Foundation
import Testing
import TestSupport
@testable import Training

/// `train --config FILE` (issue 20, item 3): the options as JSON by the flags' names, the
/// command line winning, each bad key refused naming the file and the key, and the file kept in
/// run.json's provenance.
@Suite(.serialized)
struct ConfigFileTests {
    func write(_ text: String, in folder: URL, name: String = "options.json") throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func trainOnce(_ arguments: [String]) throws -> ProcessOutcome {
        try runProcess(sitelens, ["train"] + arguments, timeout: 300)
    }

    @Test func configEqualToFlagsRecordsTheSameOptions() throws {
        let data = try plantedData(rows: 30)
        let flags = ["--epochs", "2", "--batch-size", "8", "--lr-schedule", "step", "--lr-factor", "0.25", "--seed", "5"]
        let byFlags = data.folder.appendingPathComponent("flags")
        #expect(try trainOnce([data.csv, "--run-dir", byFlags.path] + flags).status == 0)
        let config = try write(#"{"epochs": 2, "batch-size": 8, "lr-schedule": "step", "lr-factor": 0.25, "seed": 5}"#, in: data.folder)
        let byFile = data.folder.appendingPathComponent("file")
        let outcome = try trainOnce([data.csv, "--run-dir", byFile.path, "--config", config])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let (a, b) = (try RunRecord.read(from: RunFolder(byFlags)), try RunRecord.read(from: RunFolder(byFile)))
        #expect(a.options == b.options && a.options["--lr-schedule"]?.contains("0.25") == true, "\(a.options)")
        #expect(a.epochs == 2 && b.epochs == 2 && a.batchSize == 8 && b.batchSize == 8 && b.seed == 5)
        let kept = try #require(b.provenance?.configFile)
        let text = try String(contentsOfFile: config, encoding: .utf8)
        #expect(kept.path == config && kept.contents == text)
        #expect(a.provenance?.configFile == nil)
    }

    /// A file option that needs another given on the command line (--lr-factor needs a schedule).
    @Test func fileAndCommandLineTogetherMakeTheOptions() throws {
        let data = try plantedData(rows: 30)
        let config = try write(#"{"epochs": 1, "lr-factor": 0.25}"#, in: data.folder)
        let run = data.folder.appendingPathComponent("run")
        let outcome = try trainOnce([data.csv, "--config", config, "--lr-schedule", "plateau", "--run-dir", run.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let schedule = try RunRecord.read(from: RunFolder(run)).options["--lr-schedule"] ?? ""
        #expect(schedule.hasPrefix("plateau") && schedule.contains("0.25"), "\(schedule)")
    }

    @Test func commandLineWinsOverTheFile() throws {
        let data = try plantedData(rows: 30)
        let config = try write(#"{"epochs": 5, "batch-size": 4}"#, in: data.folder)
        let run = data.folder.appendingPathComponent("run")
        let outcome = try trainOnce(["--config", config, data.csv, "--epochs", "1", "--run-dir", run.path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let record = try RunRecord.read(from: RunFolder(run))
        #expect(record.epochs == 1 && record.batchSize == 4)
    }

    /// Each refusal exits 1 before any run folder is made, naming the file and the key.
    @Test(arguments: [
        (#"{"epochs": 2, "epoch": 3}"#, "field 'epoch'", "Unknown option"),
        (#"{"epochs": true}"#, "field 'epochs'", "takes a value"),
        (#"{"epochs": "many"}"#, "field 'epochs'", "many"),
        (#"{"epochs": 2.5}"#, "field 'epochs'", "2.5"),
        (#"{"overwrite": 3}"#, "field 'overwrite'", "is a flag"),
        (#"{"overwrit": false}"#, "field 'overwrit'", "Unknown option"),
        (#"{"epochs": -5}"#, "field 'epochs'", "--epochs must be at least 1"),
        (#"{"reproducible": false, "epochs": false}"#, "field 'epochs'", "takes a value"),
        (#"{"epochs": [2]}"#, "field 'epochs'", "not a list"),
        (#"{"epochs": 0}"#, "field 'epochs'", "--epochs must be at least 1"),
        (#"{"ensemble": 100000}"#, "field 'ensemble'", "--ensemble must be in"),
        (#"{"lr-factor": 0.5}"#, "field 'lr-factor'", "applies to --lr-schedule"),
        (#"{"config": "other.json"}"#, "field 'config'", "no nested --config"),
        ("{\n  \"epochs\": 2,\n  \"model\": ryczko\n}", ":3: not valid JSON", ""),
        (#"[1, 2]"#, "a config file is one JSON object", ""),
    ])
    func badConfigIsRefusedNamingFileAndKey(text: String, place: String, problem: String) throws {
        let data = try plantedData(rows: 10)
        let config = try write(text, in: data.folder)
        let run = data.folder.appendingPathComponent("run")
        let outcome = try trainOnce([data.csv, "--config", config, "--run-dir", run.path])
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains(config + (place.hasPrefix(":") ? "" : ": ") + place), "\(outcome.stderr)")
        #expect(problem.isEmpty || outcome.stderr.contains(problem), "\(outcome.stderr)")
        #expect(!FileManager.default.fileExists(atPath: run.path))
    }

    @Test func missingConfigFileIsNamed() throws {
        let data = try plantedData(rows: 10)
        let missing = data.folder.appendingPathComponent("absent.json").path
        let outcome = try trainOnce([data.csv, "--config", missing])
        #expect(outcome.status != 0 && outcome.stderr.contains("\(missing): cannot read the config file"), "\(outcome.stderr)")
    }
}
