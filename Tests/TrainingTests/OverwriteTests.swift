@testable import Basics
import Foundation
import Testing
import TestSupport

/// `--overwrite` replaces a SiteLens run and nothing else (issue 24): a user's files in the
/// folder, the current folder and the input's folder survive every attempt, and a new run that
/// fails leaves the old one whole.
struct OverwriteTests {
    func overwrite(_ csv: String, _ runDir: String, extra: [String] = [], directory: URL? = nil) throws -> ProcessOutcome {
        try runProcess(sitelens, ["train", csv, "--epochs", "2", "--run-dir", runDir, "--overwrite"] + extra,
                       directory: directory, timeout: 300)
    }

    func contents(_ url: URL) -> [String] {
        (FileManager.default.enumerator(atPath: url.path)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func aFolderThatHoldsNoRunIsRefusedAndKeptWhole() throws {
        let data = try plantedData(rows: 40)
        let user = data.folder.appendingPathComponent("results")
        try FileManager.default.createDirectory(at: user.appendingPathComponent("figures"), withIntermediateDirectories: true)
        try "keep me".write(to: user.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        try "plot".write(to: user.appendingPathComponent("figures/a.svg"), atomically: true, encoding: .utf8)
        let before = contents(user)
        let outcome = try overwrite(data.csv, user.path)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("--overwrite refuses") && outcome.stderr.contains("notes.txt"), "\(outcome.stderr)")
        #expect(contents(user) == before)
    }

    @Test func aRunWithAUserFileOrSubfolderAddedIsRefusedAndKeptWhole() throws {
        let (_, csv, run) = try finishedRun()
        for (name, isFolder) in [("my-analysis.ipynb", false), ("extra", true), ("model/my-notes.txt", false)] {
            let url = run.appendingPathComponent(name)
            if isFolder { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false) }
            else { try "mine".write(to: url, atomically: true, encoding: .utf8) }
            let before = contents(run)
            let outcome = try overwrite(csv, run.path)
            #expect(outcome.status != 0, "\(name)")
            #expect(outcome.stderr.contains(name), "\(name): \(outcome.stderr)")
            #expect(contents(run) == before, "\(name)")
            try FileManager.default.removeItem(at: url)
        }
    }

    @Test func theCurrentFolderAndTheInputsFolderAreRefused() throws {
        let (folder, csv, _) = try finishedRun()
        let before = contents(folder)
        let current = try overwrite(csv, ".", directory: folder)
        #expect(current.status != 0)
        #expect(current.stderr.contains("current folder"), "\(current.stderr)")
        #expect(contents(folder) == before)
        let holdingInput = try overwrite(csv, folder.path)
        #expect(holdingInput.status != 0)
        #expect(holdingInput.stderr.contains("holds the input"), "\(holdingInput.stderr)")
        #expect(contents(folder) == before)
        // The same folder reached through another spelling (a trailing "/.", a symbolic link).
        let link = folder.deletingLastPathComponent().appendingPathComponent("link-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: folder)
        defer { try? FileManager.default.removeItem(at: link) }
        #expect(try overwrite(csv, link.path).status != 0)
        #expect(try overwrite(csv, folder.path + "/.").status != 0)
        #expect(contents(folder) == before)
    }

    @Test func aRunIsReplacedOnlyOnceTheNewOneHasFinished() throws {
        let (folder, csv, run) = try finishedRun()
        let oldWeights = try Data(contentsOf: run.appendingPathComponent("model/member-0.safetensors"))
        // A new run that fails (its data has no target column) leaves the old run whole.
        let broken = folder.appendingPathComponent("broken.csv")
        let text = try String(contentsOfFile: csv, encoding: .utf8).replacingOccurrences(of: "Eads", with: "E_other")
        try text.write(to: broken, atomically: true, encoding: .utf8)
        let failed = try overwrite(broken.path, run.path)
        #expect(failed.status != 0)
        #expect(try Data(contentsOf: run.appendingPathComponent("model/member-0.safetensors")) == oldWeights)
        // A run that fails once training has begun (halted before its last epoch) leaves it whole too.
        let halted = try overwrite(csv, run.path, extra: ["--seed", "5", "--halt-after-epoch", "1"])
        #expect(halted.status == 0, "\(halted.stderr)")
        #expect(try Data(contentsOf: run.appendingPathComponent("model/member-0.safetensors")) == oldWeights)
        // A finished one replaces it, and nothing is left beside it.
        let replaced = try overwrite(csv, run.path, extra: ["--seed", "5"])
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try Data(contentsOf: run.appendingPathComponent("model/member-0.safetensors")) != oldWeights)
        let record = try String(contentsOf: run.appendingPathComponent("run.json"), encoding: .utf8)
        #expect(record.contains("\"seed\" : 5") && record.contains("\"complete\" : true"), "\(record)")
        #expect(!contents(folder).contains { $0.contains("sitelens-replace") }, "\(contents(folder))")
        #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent(".sitelens.lock").path))
    }

    @Test func aSwapInterruptedHalfWayIsNamedNotUndone() throws {
        let (_, csv, run) = try finishedRun()
        let target = RunFolder(run)
        // As if the process died between its two renames: the old run aside, the new one not yet in place.
        try FileManager.default.moveItem(at: run, to: target.replaced.url)
        let outcome = try overwrite(csv, run.path)
        #expect(outcome.status != 0)
        #expect(outcome.stderr.contains("interrupted") && outcome.stderr.contains(target.replaced.path), "\(outcome.stderr)")
        #expect(FileManager.default.fileExists(atPath: target.replaced.file(.record).path))
    }

    @Test func foreignEntriesNameWhatARunDoesNotWrite() throws {
        let folder = RunFolder(try temporaryFolder("sitelens-foreign"))
        for name in ["model", "checkpoints"] {
            try FileManager.default.createDirectory(at: folder.url.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        for name in ["run.json", "metrics.jsonl", "model/member-0.safetensors", "model/member-12.json",
                     "checkpoints/member-1.ckpt", "checkpoints/member-1.metrics.jsonl", ".run.json.tmp-12-abcd", ".sitelens.lock"] {
            try "x".write(to: folder.url.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        #expect(folder.foreignEntries() == [])
        for name in ["data.csv", "model/member-x.json", "checkpoints/other.ckpt", ".hidden"] {
            try "x".write(to: folder.url.appendingPathComponent(name), atomically: false, encoding: .utf8)
        }
        #expect(folder.foreignEntries() == [".hidden", "data.csv", "model/member-x.json", "checkpoints/other.ckpt"])
        #expect(RunFolder.path("/a/b", isWithin: "/a") && RunFolder.path("/a", isWithin: "/a") && !RunFolder.path("/ab", isWithin: "/a"))
    }
}
