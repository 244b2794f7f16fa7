import Foundation
import Testing
import TestSupport

/// `sitelens train --model atomic` says so at the start when its patch stops short of the data's
/// interaction range (given with --interaction-range, or estimated from the structures).
struct PatchReachTests {
    let sitelens = buildProductsDirectory().appendingPathComponent("sitelens").path

    func train(_ data: URL, _ folder: URL, _ name: String, _ extra: [String]) throws -> ProcessOutcome {
        try runProcess(sitelens, ["train", data.path, "--model", "atomic", "--epochs", "1", "--batch-size", "8",
                                  "--run-dir", folder.appendingPathComponent(name).path] + extra, timeout: 300)
    }

    @Test func theWarningNamesThePatchReachAndTheRange() throws {
        let folder = try temporaryFolder("sitelens-patch-reach")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("lj.xyz")
        let made = try runProcess(sitelens, ["generate", "--kind", "lennard-jones", "--structures", "16", "--out", data.path])
        #expect(made.status == 0, "\(made.stderr)")

        let short = try train(data, folder, "short", ["--interaction-range", "4"])
        #expect(short.status == 0, "\(short.stderr)")
        #expect(short.stdout.contains("warning: the atomic patch reaches 2.80 Å") && short.stdout.contains("interaction range 4.00 Å (--interaction-range)"),
                "\(short.stdout)")

        let reached = try train(data, folder, "reached", ["--interaction-range", "2.5"])
        #expect(reached.status == 0, "\(reached.stderr)")
        #expect(!reached.stdout.contains("warning: the atomic patch"), "\(reached.stdout)")

        // No range given: twice the median nearest-neighbour distance (at least 2 Å here, as no
        // two atoms are closer than 1 Å) against a 9-pixel patch reaching 1.40 Å.
        let estimated = try train(data, folder, "estimated", ["--patch-size", "9"])
        #expect(estimated.status == 0, "\(estimated.stderr)")
        #expect(estimated.stdout.contains("warning: the atomic patch reaches 1.40 Å") && estimated.stdout.contains("median nearest-neighbour distance"),
                "\(estimated.stdout)")

        let bad = try train(data, folder, "bad", ["--interaction-range=-1"])
        #expect(bad.status != 0 && bad.stderr.contains("--interaction-range must be a positive number of Å"), "\(bad.stderr)")
    }
}
