import Foundation
import Testing
import TestSupport
@testable import Networks
@testable import Structures

/// `--init lsuv` under data parallelism: the group's root calibrates on a batch chosen by the
/// member's seed and broadcasts, so the weights do not depend on the rank count.
@Suite(.serialized)
struct CalibratedInitTests {
    /// The initial weights, read back after one epoch at learning rate 0 (`--test-frozen-members`).
    func initialWeights(ranks: Int, initialisation: String, in folder: URL, clusters: URL) throws -> [Float] {
        let run = folder.appendingPathComponent("\(initialisation)-\(ranks)")
        try train(ranks: ranks, [clusters.path, "--model", "ryczko", "--grid", "16", "--extent", "6", "--blocks", "2", "--dense", "16",
                                 "--init", initialisation, "--epochs", "1", "--batch-size", "8", "--seed", "4",
                                 "--test-frozen-members", "0", "--run-dir", run.path], timeout: 300)
        return try memberParameters(run)
    }

    @Test func calibratedWeightsAreTheSameOnOneAndTwoRanks() throws {
        let folder = try temporaryFolder("sitelens-lsuv")
        let clusters = folder.appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: 40, seed: 8), to: clusters)
        let one = try initialWeights(ranks: 1, initialisation: "lsuv", in: folder, clusters: clusters)
        let two = try initialWeights(ranks: 2, initialisation: "lsuv", in: folder, clusters: clusters)
        let he = try initialWeights(ranks: 1, initialisation: "he", in: folder, clusters: clusters)
        #expect(one == two, "largest relative difference \(largestRelativeDifference([one], [two]))")
        // Calibrated: not He's draw, and biases (zero under He) set to centre the channels.
        #expect(one.count == he.count && one != he)
        #expect(one.contains { $0 != 0 } && zip(one, he).contains { $0 != 0 && $1 == 0 })
    }
}
