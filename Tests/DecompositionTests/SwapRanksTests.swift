import Basics
import Foundation
import Testing
import TestSupport
@testable import Structures

/// The swap decomposition on every rank (issue 22, item 5), under real mpirun: each rank
/// measures its block of the swapped structures and rank 0 combines them in structure order, so
/// the tables are the same bit for bit on 1, 2 and 3 ranks, after `train` and in `decompose`.
@Suite(.serialized)
struct SwapRanksTests {
    static let tables: [RunFolder.Output] = [.decompositionCSV, .siteInfluenceCSV]

    func tableBytes(_ folder: URL) throws -> [Data] {
        try Self.tables.map { try Data(contentsOf: RunFolder(folder).file($0)) }
    }

    @Test func theSwapTablesAreTheSameOnOneTwoAndThreeRanks() throws {
        let folder = try temporaryFolder("sitelens-swap-ranks")
        let data = try writeSlabs(10, metals: ["Cu", "Pt", "Au"], firstSeed: 31, in: folder) { symbols, _ in
            0.05 * Double(count("Pt", in: symbols)) - 0.1 * Double(count("Au", in: symbols))
        }
        let run = folder.appendingPathComponent("run")
        let common = ["--site-rule", "adsorbate-shells"]
        // Trained on 2 ranks: the run's own tables come from swaps measured on both.
        let train = try mpirun(2, sitelens, ["train", data.path, "--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6",
                                             "--filters", "4", "--epochs", "1", "--ensemble", "2", "--run-dir", run.path] + common, timeout: 300)
        #expect(train.status == 0, "\(train.stderr.suffix(2000))")
        #expect(train.stdout.contains("shared out over 2 ranks (structures 1–5, 6–10)"), "\(train.stdout.suffix(2000))")
        let trained = try tableBytes(run)
        #expect(trained.allSatisfy { !$0.isEmpty })

        for ranks in [1, 2, 3] {
            let again = folder.appendingPathComponent("again-\(ranks)")
            let decompose = try mpirun(ranks, sitelens, ["decompose", "--run", run.path, data.path, "--out", again.path] + common, timeout: 300)
            #expect(decompose.status == 0, "\(ranks) ranks: \(decompose.stderr.suffix(2000))")
            #expect(decompose.stdout.contains("shared out over \(ranks) ranks") == (ranks > 1), "\(decompose.stdout.suffix(1500))")
            #expect(try tableBytes(again) == trained, "\(ranks) ranks")
        }
    }
}
