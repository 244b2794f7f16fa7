import Foundation
import Testing
import TestSupport
@testable import Networks
@testable import Structures

/// The default batched steps (each rank's samples of a batch through the network at once)
/// against `--reproducible` (one sample at a time, Double sums), under real mpirun.
@Suite(.serialized)
struct BatchedStepTests {
    /// The atomic model on a planted site table and the ryczko CNN on Lennard-Jones clusters,
    /// both small enough for a test.
    static func models() throws -> [(name: String, arguments: [String])] {
        let (_, csv, _) = try plantedData(rows: 37)
        let folder = try temporaryFolder("sitelens-batched")
        let clusters = folder.appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: 30, seed: 2), to: clusters)
        return [
            ("atomic", DistributedTrainingTests.atomicOptions + [csv]),
            ("ryczko", [clusters.path, "--model", "ryczko", "--grid", "16", "--extent", "5", "--blocks", "1", "--dense", "16"]),
        ]
    }

    @Test func batchedStepsAreBitIdenticalOnTheSameRankCountAndAgreeAcrossRankCounts() throws {
        for (name, arguments) in try Self.models() {
            let folder = try temporaryFolder("sitelens-batched-\(name)")
            let common = arguments + ["--epochs", "2", "--batch-size", "8", "--seed", "11", "--checksum-every", "1"]
            var runs: [String: URL] = [:]
            for (label, ranks) in [("1", 1), ("2a", 2), ("2b", 2), ("3", 3)] {
                runs[label] = folder.appendingPathComponent("run\(label)")
                try train(ranks: ranks, common + ["--run-dir", runs[label]!.path])
            }
            let weights = { (label: String) in try Data(contentsOf: runs[label]!.appendingPathComponent("model/member-0.safetensors")) }
            #expect(try weights("2a") == weights("2b"), "\(name): two 2-rank runs differ")
            for label in ["2a", "3"] {
                let difference = largestRelativeDifference(try memberTensors(runs["1"]!), try memberTensors(runs[label]!))
                #expect(difference <= 1e-4, "\(name): 1 rank and run \(label) differ by \(difference)")
            }
        }
    }

    @Test func reproducibleStepsAreBitIdenticalForAnyRankCount() throws {
        let (name, arguments) = try Self.models()[1]
        let folder = try temporaryFolder("sitelens-reproducible")
        // One thread everywhere: the libraries may split a sum differently on more threads.
        let common = arguments + ["--epochs", "2", "--batch-size", "8", "--seed", "5", "--blas-threads", "1", "--reproducible"]
        var results: [[Float]] = []
        for ranks in [1, 3] {
            let run = folder.appendingPathComponent("run\(ranks)")
            try train(ranks: ranks, common + ["--run-dir", run.path])
            results.append(try memberParameters(run))
        }
        #expect(results[0] == results[1], "\(name): --reproducible differs between 1 and 3 ranks")
        // The two modes group the sums differently, so they must not agree bit for bit: this
        // catches a flag that changes nothing.
        let batched = folder.appendingPathComponent("batched")
        try train(ranks: 1, common.filter { $0 != "--reproducible" } + ["--run-dir", batched.path])
        #expect(try memberParameters(batched) != results[0], "\(name): batched and --reproducible gave identical weights")
    }
}
