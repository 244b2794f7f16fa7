import Foundation
import Testing
import TestSupport
import Structures


func readText(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

/// `sitelens screen` end to end: planted truth found exactly on 1, 2 and 3 ranks; refusals.
@Suite(.serialized)
struct ScreenCommandTests {
    /// A planted site table and a small sites ensemble trained on it (once per test).
    func trainedPlantedRun(_ folder: URL) throws -> (run: URL, truth: PlantedTruth) {
        let truth = try PlantedTruth()
        let data = folder.appendingPathComponent("planted.csv")
        try truth.siteTable(count: 600, seed: 11).write(to: data, atomically: true, encoding: .utf8)
        let run = folder.appendingPathComponent("run")
        let train = try mpirun(2, sitelens, ["train", data.path, "--model", "sites", "--ensemble", "3", "--epochs", "300", "--run-dir", run.path],
                               timeout: 900)
        #expect(train.status == 0, "\(train.stderr.suffix(2000))")
        return (run, truth)
    }

    @Test func findsThePlantedBestOnOneTwoAndThreeRanksAlike() throws {
        let folder = try temporaryFolder("sitelens-screen-planted")
        let (run, truth) = try trainedPlantedRun(folder)
        let trueBest = truth.contributions.map { site in truth.elements[site.indices.min { site[$0] < site[$1] } ?? 0] }
        var tops: [String] = []
        for ranks in 1...3 {
            let out = folder.appendingPathComponent("screen-\(ranks)")
            let screen = try mpirun(ranks, sitelens, ["screen", "--run", run.path, "--objective", "min", "--kappa", "1", "--top", "10",
                                                      "--out", out.path], timeout: 900)
            #expect(screen.status == 0, "\(ranks) ranks: \(screen.stderr.suffix(2000))")
            #expect(screen.stdout.contains("on \(ranks) rank") && screen.stdout.contains("candidates/s"), "\(screen.stdout)")
            let top = try readText(out.appendingPathComponent("top.csv"))
            let lines = top.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            #expect(lines.first?.prefix(1 + truth.siteNames.count) == ["rank"] + truth.siteNames[...])
            #expect(lines.first?.suffix(from: 11).prefix(3) == ["mean", "std", "objective"])
            #expect(lines.count == 11)
            #expect(lines.count > 1 && Array(lines[1][1...10]) == trueBest, "best \(lines.count > 1 ? lines[1] : []) vs truth \(trueBest)")
            let histogram = try readText(out.appendingPathComponent("histogram.csv"))
            let total = histogram.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").last.flatMap { Int($0) } }.reduce(0, +)
            #expect(total == 9_765_625)
            tops.append(top)
        }
        #expect(tops.count == 3 && tops.allSatisfy { $0 == tops[0] })
    }

    @Test func badOptionsAreRefusedNamingTheOptionAndRange() throws {
        let folder = try temporaryFolder("sitelens-screen-bad")
        let cases: [([String], String)] = [
            (["--objective", "min", "--kappa=-1"], "0.0...10.0"),
            (["--objective", "min", "--kappa", "11"], "0.0...10.0"),
            (["--objective", "best"], "allowed: min, max, target:EV"),
            (["--objective", "weighted:1,x"], "weighted: 'x' is not a number within ±1000"),
            (["--objective", "weighted:0,0"], "every weight is 0"),
            (["--objective", "weighted:1,1,1,1,1,1,1,1,1"], "1 to 8 comma-separated weights"),
            (["--objective", "min", "--top", "0"], "--top 0: must be within 1..."),
            (["--objective", "min", "--count", "Cu=3"], "--count expects ELEMENT=LOW:HIGH"),
            (["--objective", "min", "--bins", "0"], "--bins 0"),
        ]
        for (arguments, expected) in cases {
            let outcome = try runProcess(sitelens, ["screen", "--run", folder.path, "--out", folder.appendingPathComponent("o").path] + arguments)
            #expect(outcome.status != 0 && outcome.stderr.contains(expected), "\(arguments): \(outcome.stderr)")
        }
    }

    @Test func refusesAnEarlierScreenUnlessOverwriteAndRejectsABadSite() throws {
        let folder = try temporaryFolder("sitelens-screen-overwrite")
        let (run, _) = try trainedPlantedRun(folder)
        let out = folder.appendingPathComponent("out")
        let small = ["--fix", "T/B1=Cu", "--fix", "B2/Nsur1=Cu", "--fix", "Nsur2=Cu", "--fix", "Nsur3=Cu", "--allow", "Nsur4=Co+Ni"]
        let first = try runProcess(sitelens, ["screen", "--run", run.path, "--objective", "max", "--top", "3", "--out", out.path] + small)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("screen: 6250 candidates"), "\(first.stdout)")
        let again = try runProcess(sitelens, ["screen", "--run", run.path, "--objective", "max", "--top", "3", "--out", out.path] + small)
        #expect(again.status != 0 && again.stderr.contains("--overwrite"), "\(again.stderr)")
        let replaced = try runProcess(sitelens, ["screen", "--run", run.path, "--objective", "target:-2", "--top", "3", "--out", out.path, "--overwrite"] + small)
        #expect(replaced.status == 0, "\(replaced.stderr)")
        #expect(try readText(out.appendingPathComponent("screen.json")).contains("target:-2"))
        let badSite = try runProcess(sitelens, ["screen", "--run", run.path, "--objective", "min", "--fix", "Top=Cu", "--out", folder.appendingPathComponent("o2").path])
        #expect(badSite.status != 0 && badSite.stderr.contains("no site 'Top'") && badSite.stderr.contains("T/B1"), "\(badSite.stderr)")
    }
}
