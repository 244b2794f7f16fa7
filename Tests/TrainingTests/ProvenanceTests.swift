@testable import Basics
import Foundation
import Testing
import TestSupport
@testable import Training

/// run.json says how the run was made (issue 20, item 3): the command line, the SiteLens that
/// ran it, ranks, nodes, host and times; `sitelens --version` names the same SiteLens.
@Suite(.serialized)
struct ProvenanceTests {
    /// The checkout's HEAD commit as git reports it (the tests run inside the checkout).
    func headCommit() throws -> String {
        let git = try runProcess("/usr/bin/env", ["git", "-C", repositoryRoot().path, "rev-parse", "HEAD"])
        return git.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func versionNamesTheReleaseAndTheCommit() throws {
        let outcome = try runProcess(sitelens, ["--version"])
        #expect(outcome.status == 0)
        let line = outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.hasPrefix(SiteLensVersion.release + " (commit "), "\(line)")
        let commit = try headCommit()
        #expect(commit.count == 40 && line.contains("commit \(commit.prefix(12))"), "\(line) vs \(commit)")
    }

    @Test func runRecordSaysHowTheRunWasMadeOnTwoRanks() throws {
        let data = try plantedData(rows: 30)
        let run = data.folder.appendingPathComponent("run")
        let arguments = [data.csv, "--epochs", "2", "--learning-rate", "0.002", "--checkpoint-every", "1", "--run-dir", run.path]
        let before = Date()
        try train(ranks: 2, arguments)
        let record = try RunRecord.read(from: RunFolder(run))
        let made = try #require(record.provenance)
        #expect(Array(made.commandLine.dropFirst()) == ["train"] + arguments)
        #expect(made.commandLine.first.map { URL(fileURLWithPath: $0).lastPathComponent } == "sitelens")
        #expect(made.version == (try runProcess(sitelens, ["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(made.ranks == 2 && made.nodes == 1)
        #expect(made.host == ProcessInfo.processInfo.hostName)
        let started = try Date(made.started, strategy: .iso8601)
        let finished = try Date(try #require(made.finished), strategy: .iso8601)
        #expect(started >= before.addingTimeInterval(-1) && started <= finished && finished <= Date().addingTimeInterval(1))
        #expect(record.earlierParts == nil)

        // A resume keeps the first part's provenance and records its own.
        try train(ranks: 2, [data.csv, "--epochs", "3", "--learning-rate", "0.002", "--checkpoint-every", "1", "--resume", run.path])
        let after = try RunRecord.read(from: RunFolder(run))
        #expect(after.earlierParts == [made])
        #expect(after.provenance?.commandLine.contains("--resume") == true && after.provenance?.finished != nil)
    }

    /// Each value given as JSON text.
    @Test(arguments: [("nodes", "5", "nodes 5; must be in 1...ranks (1)"), ("started", #""yesterday""#, "started 'yesterday'; a run writes an ISO 8601 time"),
                      ("configFile", #"{"path": "", "contents": "{}"}"#, "configFile: a path")])
    func impossibleProvenanceIsRefusedNamingTheField(field: String, value: String, problem: String) throws {
        let (folder, csv, run) = try finishedRun(rows: 30)
        let url = run.appendingPathComponent("run.json")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        var provenance = try #require(object["provenance"] as? [String: Any])
        provenance[field] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        object["provenance"] = provenance
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        let outcome = try runProcess(sitelens, ["predict", "--run", run.path, csv, "--out", folder.appendingPathComponent("p.csv").path])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("run.json: field 'provenance': \(problem)"), "\(outcome.stderr)")
    }
}
