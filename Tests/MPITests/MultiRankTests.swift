import Foundation
import Testing
import TestSupport

/// Real `mpirun` runs of the helper on 2, 3 and 4 ranks; every rank's every check is read back.
@Suite(.serialized)
struct MultiRankTests {
    let helper = buildProductsDirectory().appendingPathComponent("mpi-test-helper").path

    /// The checks every rank must report, with the value each must print.
    func expectedValues(ranks p: Int, rank: Int) -> [String: String] {
        let s = Double(p * (p + 1) / 2)
        var expected: [String: String] = [:]
        for label in ["float", "double"] {
            for n in [1, 1000, 1_000_000] {
                expected["sum-\(label)-\(n)"] = "\(s * Double((n - 1) % 7 + 1))"
                expected["max-\(label)-\(n)"] = "\(Double((p - 1) * 1000 + (n - 1) % 5))"
                expected["min-\(label)-\(n)"] = "\(Double((n - 1) % 5))"
            }
        }
        expected["sum-int64"] = "\(p * (p + 1) / 2)"
        expected["split"] = rank == 0 ? "1:0:0" : "\(p - 1):\(p - 1 - rank):\((1..<p).reduce(0, +))"
        expected["split-undefined"] = rank == p - 1 ? "none" : "\(p - 1)"
        let sizes = [0, 1, 5000]
        let gathered = (0..<p).map { "\(sizes[$0 % 3])" }.joined(separator: ",")
        expected["gatherv-root0"] = rank == 0 ? gathered : "none"
        expected["gatherv-root\(p - 1)"] = rank == p - 1 ? gathered : "none"
        expected["broadcast"] = "\((0..<100).map { Double($0) * 0.5 + Double(p - 1) }.reduce(0, +))"
        expected["allgather"] = (0..<p).map { "\($0 * 10)" }.joined(separator: ",")
        expected["iallreduce"] = "\(Float(p * (p + 1) / 2))"
        expected["bucketed"] = "\(Double(p * (p + 1) / 2) * Double(300_000 % 1009) + Double(p) * 0.5 * Double(300_000 % 3))"
        expected["bucketed-again"] = "\(Double(p))"
        expected["allgatherv"] = "\((0..<p).map { sizes[$0 % 3] }.reduce(0, +))"
        expected["codable"] = (0..<p).map(String.init).joined(separator: ",")
        return expected
    }

    @Test(arguments: [2, 3, 4])
    func collectivesGiveKnownResultsOnEveryRank(ranks: Int) throws {
        let run = try mpirun(ranks, helper, ["collectives"], timeout: 120)
        #expect(run.status == 0, "mpirun failed: \(run.stderr)")
        let lines = keyValueLines(run.stdout, requiring: "check")
        for rank in 0..<ranks {
            let mine = lines.filter { $0["rank"] == "\(rank)" }
            let expected = expectedValues(ranks: ranks, rank: rank)
            #expect(Set(mine.compactMap { $0["check"] }) == Set(expected.keys), "rank \(rank) reported other checks")
            for line in mine {
                let name = line["check"]!
                #expect(line["ok"] == "1", "rank \(rank) failed its own check \(name): \(line["value"] ?? "")")
                #expect(line["value"] == expected[name], "rank \(rank) \(name): got \(line["value"] ?? "nil"), want \(expected[name] ?? "nil")")
            }
        }
    }

    @Test(arguments: [2, 3])
    func aFailingRankEndsTheWholeJobPromptly(ranks: Int) throws {
        let run = try mpirun(ranks, helper, ["abort"], timeout: 60)
        #expect(!run.timedOut, "the job hung after a rank failed")
        #expect(run.seconds < 30, "the job took \(run.seconds) s to end after a rank failed")
        #expect(run.status != 0)
        #expect(run.stderr.contains("planted failure on rank 1"), "stderr: \(run.stderr)")
    }
}
