import Basics
import Foundation
import Networks
@testable import Screening
import Structures
import Testing
import TestSupport
import Training

/// A small `atomic` ensemble trained once on a planted site table, for the image-screen tests.
enum PlantedAtomicRun {
    static let folder: Result<URL, any Error> = Result {
        let folder = try temporaryFolder("sitelens-screen-atomic")
        let truth = try PlantedTruth()
        let data = folder.appendingPathComponent("planted.csv")
        try truth.siteTable(count: 80, seed: 5).write(to: data, atomically: true, encoding: .utf8)
        let run = folder.appendingPathComponent("run")
        let train = try runProcess(sitelens, ["train", data.path, "--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6",
                                              "--filters", "4", "--epochs", "2", "--ensemble", "2", "--run-dir", run.path], timeout: 600)
        guard train.status == 0 else { throw TestFailure("training the atomic run failed: \(train.stderr.suffix(2000))") }
        return folder
    }

    /// Seven of the ten sites fixed: 5³ = 125 candidates.
    static let fixed = ["--fix", "T/B1=Cu", "--fix", "B2/Nsur1=Ni", "--fix", "Nsur2=Fe", "--fix", "Nsur3=Co", "--fix", "Nsur4=Cu",
                        "--fix", "Nsur5=Ni", "--fix", "Nsur6=Fe"]
    static let freeSites = 7..<10
    static let fixedElements = ["Cu", "Ni", "Fe", "Co", "Cu", "Ni", "Fe"]
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// top.csv as rows of fields (header first).
func csvRows(_ url: URL) throws -> [[String]] {
    try readText(url).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
}

/// `sitelens screen` on an `atomic` run: the same top K as evaluating every candidate by hand,
/// samples by seed, any rank count alike, and refusals.
@Suite(.serialized)
struct ImageScreenTests {
    func screen(_ out: URL, ranks: Int = 1, _ extra: [String]) throws -> ProcessOutcome {
        let folder = try PlantedAtomicRun.folder.get()
        let arguments = ["screen", "--run", folder.appendingPathComponent("run").path, "--out", out.path] + extra
        return ranks == 1 ? try runProcess(sitelens, arguments, timeout: 600) : try mpirun(ranks, sitelens, arguments, timeout: 600)
    }

    /// Each of the 125 candidates' member energies: built through the fcc(111) template (the
    /// run's defaults) with the planted table's adsorbate marker, encoded by the members' own
    /// encoder and evaluated in batched passes; the index as the screen numbers candidates.
    static func everyCandidate(members: [EnergyModel], elements: [String]) throws -> [[Double]] {
        let template = SiteTemplate.fcc111Top().relabelled(try PlantedTruth().siteNames)
        var batch = try BatchedEvaluation(members: members)
        var energies = [[Double]](repeating: [], count: 125)
        for index in 0..<125 {
            let free = [index / 25, index / 5 % 5, index % 5].map { elements[$0] }
            let structure = try template.structure(elements: PlantedAtomicRun.fixedElements + free, energy: nil, adsorbate: "COOH")
            for (tag, values) in try batch.add(try members[0].encoder.encode(structure), tag: index) { energies[tag] = values.map { $0.reduce(0, +) } }
        }
        for (tag, values) in try batch.finish() { energies[tag] = values.map { $0.reduce(0, +) } }
        return energies
    }

    /// A member the run's health check excluded (run.json `excludedMembers`) stays out: the
    /// screen's means are the kept member's own energies, its spread zero.
    @Test func membersTheRunExcludedStayExcluded() throws {
        let folder = try PlantedAtomicRun.folder.get()
        let copy = folder.appendingPathComponent("run-excluded")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("run"), to: copy)
        let recordFile = copy.appendingPathComponent("run.json")
        var record = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: recordFile)) as? [String: Any])
        record["excludedMembers"] = [["member": 1, "validationMAE": 1.0, "baselineMAE": 0.5, "reason": "excluded by the test"]]
        try JSONSerialization.data(withJSONObject: record).write(to: recordFile)
        let out = folder.appendingPathComponent("excluded")
        let outcome = try runProcess(sitelens, ["screen", "--run", copy.path, "--objective", "min", "--top", "125", "--out", out.path] + PlantedAtomicRun.fixed,
                                     timeout: 600)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(2000))")
        #expect(outcome.stdout.contains("runs run-excluded, 1 members"), "\(outcome.stdout)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("screen.json"))) as? [String: Any]
        let elements = try #require(summary?["elements"] as? [String])
        let all = try loadTrainedEnsemble(from: RunFolder(path: folder.appendingPathComponent("run").path))
        let kept = try Self.everyCandidate(members: [all[0]], elements: elements).map { $0[0] }
        let both = try Self.everyCandidate(members: all, elements: elements).map { Spread($0).mean }
        let rows = try csvRows(out.appendingPathComponent("top.csv"))
        let column = { (name: String) in rows[0].firstIndex(of: name) ?? 0 }
        #expect(rows.count == 126)
        for row in rows.dropFirst() {
            guard let index = Int(row[column("index")]), kept.indices.contains(index) else { Issue.record("bad index \(row)"); continue }
            #expect(abs((Double(row[column("mean")]) ?? .nan) - kept[index]) < 1e-9 && row[column("std")] == "0.0", "\(row)")
        }
        #expect(zip(kept, both).contains { abs($0 - $1) > 1e-6 })
    }

    /// Every candidate built through the fcc(111) template (the run's defaults), encoded by the
    /// members' own encoder and evaluated in batched passes; ranked by −(mean + κ·std), ties by index.
    @Test func topEqualsABruteForceRankingOfEveryCandidate() throws {
        let folder = try PlantedAtomicRun.folder.get()
        let out = folder.appendingPathComponent("exhaustive")
        let outcome = try screen(out, ["--objective", "min", "--kappa", "1", "--top", "10"] + PlantedAtomicRun.fixed)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(2000))")
        #expect(outcome.stdout.contains("screen: 125 candidates") && outcome.stdout.contains("rank 0: 125 candidates"), "\(outcome.stdout)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("screen.json"))) as? [String: Any]
        let elements = try #require(summary?["elements"] as? [String])
        let members = try loadTrainedEnsemble(from: RunFolder(path: folder.appendingPathComponent("run").path))
        let spreads = try Self.everyCandidate(members: members, elements: elements).map { Spread($0) }
        let ranked = spreads.indices.sorted { a, b in
            let (sa, sb) = (-(spreads[a].mean + spreads[a].std), -(spreads[b].mean + spreads[b].std))
            return sa != sb ? sa > sb : a < b
        }
        let rows = try csvRows(out.appendingPathComponent("top.csv"))
        let column = { (name: String) in rows[0].firstIndex(of: name) ?? 0 }
        #expect(rows.dropFirst().map { Int($0[column("index")]) } == ranked.prefix(10).map { $0 })
        for (row, index) in zip(rows.dropFirst(), ranked) {
            #expect(abs((Double(row[column("mean")]) ?? .nan) - spreads[index].mean) < 1e-5)
            #expect(abs((Double(row[column("std")]) ?? .nan) - spreads[index].std) < 1e-5)
        }
        // The atomic split, centred on each site's training mean: the centring cancels between
        // candidates, so the difference of two candidates' summed shares is that of their means.
        let shares = try csvRows(out.appendingPathComponent("top-contributions.csv"))
        #expect(shares.count == 1 + 10 * 10)
        let sums = (0..<10).map { k in shares.dropFirst().dropFirst(10 * k).prefix(10).compactMap { Double($0[3]) }.reduce(0, +) }
        for k in 1..<10 {
            let expected = spreads[ranked[k]].mean - spreads[ranked[0]].mean
            #expect(abs((sums[k] - sums[0]) - expected) < 1e-4, "rank \(k + 1): \(sums[k] - sums[0]) vs \(expected)")
        }
        #expect(Set(sums).count > 1)
    }

    /// The swap shares (what image models that give one energy per structure get) at the best
    /// candidate, against every candidate's mean in an exhaustive top.csv: own value less the
    /// mean over each free site's elements, 0 at the fixed sites.
    @Test func swapSharesAreTheOwnValueLessTheSiteMeanOverItsElements() throws {
        let folder = try PlantedAtomicRun.folder.get()
        let out = folder.appendingPathComponent("all")
        let outcome = try screen(out, ["--objective", "min", "--top", "125"] + PlantedAtomicRun.fixed)
        #expect(outcome.status == 0, "\(outcome.stderr.suffix(2000))")
        let rows = try csvRows(out.appendingPathComponent("top.csv"))
        let column = { (name: String) in rows[0].firstIndex(of: name) ?? 0 }
        var means = [Double](repeating: .nan, count: 125)
        for row in rows.dropFirst() { if let index = Int(row[column("index")]), means.indices.contains(index) { means[index] = Double(row[column("mean")]) ?? .nan } }
        #expect(means.allSatisfy { $0.isFinite })
        let run = folder.appendingPathComponent("run")
        let table = try SiteTable.read(path: folder.appendingPathComponent("planted.csv").path, options: .init())
        let screened = try ScreenedRun.loadImages(name: "COOH", members: loadTrainedEnsemble(from: RunFolder(path: run.path)), table: table,
                                                  template: .fcc111Top())
        let fixed = Dictionary(uniqueKeysWithValues: zip(table.siteNames, PlantedAtomicRun.fixedElements))
        let space = try CandidateSpace(sites: table.siteNames, elements: table.elements, fixed: fixed)
        #expect(space.size == 125 && space.elements == table.elements)
        let best = try #require(Int(rows[1][column("index")]))
        let candidate = ScoredCandidate(index: best, score: -means[best], objective: means[best], objectiveStd: 0, means: [means[best]], stds: [0])
        let shares = try SwapSiteShares(runs: [screened], space: space, objective: .min, line: nil).shares(candidate: candidate, digits: space.digits(of: best))
        let digits = space.digits(of: best)
        for s in 0..<10 {
            var expected = 0.0
            if s >= 7 {
                let others = (0..<5).map { d -> Double in var variant = digits; variant[s] = d; return means[space.index(of: variant)] }
                expected = means[best] - others.reduce(0, +) / 5
            }
            #expect(abs(shares[s].share - expected) < 1e-9 && shares[s].effect == shares[s].share, "site \(s): \(shares[s].share) vs \(expected)")
        }
        #expect(shares[7...].contains { abs($0.share) > 1e-6 })
    }

    @Test func aSampleCoveringTheSpaceIsExhaustiveAndASmallerOneIsSeeded() throws {
        let folder = try PlantedAtomicRun.folder.get()
        func top(_ name: String, _ extra: [String]) throws -> (String, String) {
            let out = folder.appendingPathComponent(name)
            let outcome = try screen(out, ["--objective", "max", "--top", "8"] + PlantedAtomicRun.fixed + extra)
            #expect(outcome.status == 0, "\(name): \(outcome.stderr.suffix(2000))")
            return (try readText(out.appendingPathComponent("top.csv")), outcome.stdout)
        }
        let (every, _) = try top("every", [])
        let (covering, _) = try top("covering", ["--sample", "500"])
        #expect(covering == every)
        let (first, firstOutput) = try top("seed3", ["--sample", "40", "--seed", "3"])
        let (again, _) = try top("seed3-again", ["--sample", "40", "--seed", "3"])
        let (other, _) = try top("seed4", ["--sample", "40", "--seed", "4"])
        #expect(first == again)
        #expect(first != other)
        #expect(first != every)
        #expect(firstOutput.contains("a uniform sample of 40 of the 125 candidates (seed 3)"), "\(firstOutput)")
        let histogram = try csvRows(folder.appendingPathComponent("seed3").appendingPathComponent("histogram.csv"))
        #expect(histogram.dropFirst().compactMap { Int($0[2]) }.reduce(0, +) == 40)
    }

    @Test func oneAndTwoRanksGiveTheSameTop() throws {
        let folder = try PlantedAtomicRun.folder.get()
        for extra in [[String](), ["--sample", "60", "--seed", "9"]] {
            var tops: [String] = []
            for ranks in 1...2 {
                let out = folder.appendingPathComponent("ranks-\(ranks)-\(extra.count)")
                let outcome = try screen(out, ranks: ranks, ["--objective", "target:-2", "--kappa", "0.5", "--top", "12"] + PlantedAtomicRun.fixed + extra)
                #expect(outcome.status == 0, "\(ranks) ranks: \(outcome.stderr.suffix(2000))")
                #expect(outcome.stdout.contains("rank \(ranks - 1): ") && outcome.stdout.contains("ms per candidate"), "\(outcome.stdout)")
                tops.append(try readText(out.appendingPathComponent("top.csv")))
                tops.append(try readText(out.appendingPathComponent("histogram.csv")))
            }
            #expect(tops[0] == tops[2] && tops[1] == tops[3], "\(extra)")
        }
    }

    @Test func badSamplesAndAnOversizedSpaceAreRefused() throws {
        let folder = try PlantedAtomicRun.folder.get()
        let cases: [([String], [String])] = [
            (["--sample", "0"], ["--sample 0: must be within 1...1000000"]),
            (["--sample", "2000000"], ["--sample 2000000: must be within 1...1000000"]),
            ([], ["9765625", "--sample N", "200000"]),
            (["--sample", "30", "--count", "Mo=9:10"], ["--sample 30", "found only", "--count windows"]),
        ]
        for (k, (extra, expected)) in cases.enumerated() {
            let outcome = try screen(folder.appendingPathComponent("bad-\(k)"), ["--objective", "min"] + extra)
            #expect(outcome.status != 0 && expected.allSatisfy { outcome.stderr.contains($0) }, "\(extra): \(outcome.stderr)")
        }
    }
}

/// The selection of candidates without a process: counts under windows, samples, refusals.
struct CandidateSelectionTests {
    let sites = ["a", "b", "c", "d", "e", "f"]
    let elements = ["Co", "Cu", "Ni"]

    @Test func windowCountsAndSamplesMeetTheWindows() throws {
        let windows: [CandidateSpace.Window] = [.init(element: "Ni", low: 2, high: 3), .init(element: "Co", low: 0, high: 1)]
        let space = try CandidateSpace(sites: sites, elements: elements, allowedBySite: ["b": ["Co", "Ni"]], windows: windows)
        let meeting = (0..<space.size).filter { space.satisfiesWindows(space.digits(of: $0)) }
        #expect(space.meetingWindows == meeting.count && meeting.count > 0 && meeting.count < space.size)
        let sample = try CandidateSelection.sample(space, count: 20, seed: 5)
        let indices = try #require(sample.sampled)
        #expect(indices.count == 20 && indices == Array(Set(indices)).sorted() && Set(indices).isSubset(of: meeting))
        #expect(try CandidateSelection.sample(space, count: 20, seed: 5) == sample)
        #expect(try CandidateSelection.sample(space, count: 20, seed: 6) != sample)
        #expect(sample.statement.contains("a uniform sample of 20 of the \(meeting.count) candidates meeting the count windows (seed 5)"))
        let whole = try CandidateSelection.sample(space, count: meeting.count, seed: 5)
        #expect(whole.sampled == nil && whole.count == space.size)
    }

    @Test func anOversizedSpaceIsRefusedNamingItsSizeAndSample() throws {
        let space = try CandidateSpace(sites: sites, elements: elements)
        #expect(try CandidateSelection.exhaustive(space, limit: space.size).count == space.size)
        do {
            _ = try CandidateSelection.exhaustive(space, limit: space.size - 1)
            Issue.record("a space above the limit was accepted")
        } catch {
            #expect("\(error)".contains("\(space.size) occupations") && "\(error)".contains("--sample N"), "\(error)")
        }
        #expect(throws: ScreenError.self) { try CandidateSelection.sample(space, count: 0, seed: 1) }
    }
}
