import Foundation
import Testing
import TestSupport

/// The gradient all-reduce modes under real mpirun: buckets overlapped with backward (here
/// 256-byte buckets, so every layer of the small ryczko CNN is a bucket of its own) against one
/// blocking all-reduce. Each element's Double sum is the same in both, so the weights must be.
@Suite(.serialized)
struct GradientReductionTests {
    @Test func bucketedAndSingleAllReducesTrainTheSameWeights() throws {
        let (name, arguments) = try BatchedStepTests.models()[1]
        let folder = try temporaryFolder("sitelens-reduction")
        let common = arguments + ["--epochs", "2", "--batch-size", "8", "--seed", "7", "--checksum-every", "1"]
        func weights(ranks: Int, _ mode: String, _ extra: [String] = []) throws -> Data {
            let run = folder.appendingPathComponent("run\(ranks)-\(mode.replacingOccurrences(of: ":", with: "_"))\(extra.joined())")
            let outcome = try train(ranks: ranks, common + extra + ["--all-reduce", mode, "--run-dir", run.path])
            // The mode reached the plan (identical weights alone would not show it).
            if ranks > 1 { #expect(outcome.stdout.contains("gradient all-reduce \(mode)"), "stdout: \(outcome.stdout.prefix(500))") }
            return try Data(contentsOf: run.appendingPathComponent("model/member-0.safetensors"))
        }
        let single = try weights(ranks: 2, "single")
        #expect(try weights(ranks: 2, "buckets:256") == single, "\(name): 2 ranks, buckets differ from one all-reduce")
        #expect(try weights(ranks: 2, "buckets:256:nopoll") == single, "\(name): 2 ranks, unpolled buckets differ")
        #expect(try weights(ranks: 3, "buckets:256") == weights(ranks: 3, "single"), "\(name): 3 ranks, buckets differ")
        // Batches of 2 on 3 ranks: one rank has no sample in every step and starts all its
        // buckets at once, after the others started theirs during backward.
        #expect(try weights(ranks: 3, "buckets:256", ["--batch-size", "2"]) == weights(ranks: 3, "single", ["--batch-size", "2"]),
                "\(name): 3 ranks, batch 2, buckets differ")
        // --reproducible stays bit-identical across rank counts with many buckets.
        let reproducible = try weights(ranks: 1, "buckets:256", ["--reproducible"])
        #expect(try weights(ranks: 3, "buckets:256", ["--reproducible"]) == reproducible, "\(name): --reproducible, 1 and 3 ranks differ")
    }

    /// The default decides by where the ranks run: all of mpirun's ranks here share one node,
    /// so one blocking all-reduce. (One node cannot show the other branch.)
    @Test func theDefaultTakesOneAllReduceOnOneNode() throws {
        let (_, arguments) = try BatchedStepTests.models()[1]
        let folder = try temporaryFolder("sitelens-reduction-auto")
        let common = arguments + ["--epochs", "1", "--batch-size", "8", "--seed", "7"]
        let auto = try train(ranks: 2, common + ["--run-dir", folder.appendingPathComponent("auto").path])
        #expect(auto.stdout.contains("gradient all-reduce auto → single (all ranks share one node)"), "stdout: \(auto.stdout.prefix(500))")
    }

    @Test func aBucketSizeOutsideItsRangeIsRefusedWithTheOption() throws {
        let run = try runProcess(sitelens, ["train", "/nonexistent.csv", "--all-reduce", "buckets:0"], timeout: 60)
        #expect(run.status != 0)
        #expect(run.stderr.contains("--all-reduce"), "stderr: \(run.stderr)")
    }
}
