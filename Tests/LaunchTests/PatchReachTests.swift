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

    /// Lennard-Jones clusters lie in one plane: no stacked atoms, so no projection warning.
    @Test func planarClustersGiveNoProjectionWarning() throws {
        let folder = try temporaryFolder("sitelens-projection")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("lj.xyz")
        #expect(try runProcess(sitelens, ["generate", "--kind", "lennard-jones", "--structures", "16", "--out", data.path]).status == 0)
        let run = try train(data, folder, "flat", [])
        #expect(run.status == 0 && !run.stdout.contains("merge atoms"), "\(run.stdout)")
        // The same clusters with one atom lifted 2 Å straight above another: named.
        var text = try String(contentsOf: data, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let firstAtom = lines[2].split(separator: " ").map(String.init)
        let stacked = [firstAtom[0], firstAtom[1], firstAtom[2], "2.0"].joined(separator: " ")
        text = ([String(Int(lines[0])! + 1), lines[1], lines[2], stacked] + lines[3...]).joined(separator: "\n")
        let lifted = folder.appendingPathComponent("lifted.xyz")
        try text.write(to: lifted, atomically: true, encoding: .utf8)
        let warned = try train(lifted, folder, "lifted", [])
        #expect(warned.status == 0 && warned.stdout.contains("merge atoms that lie above one another")
                && warned.stdout.contains("structure 1, atoms 1 and 2"), "\(warned.stdout)\(warned.stderr)")
    }
}
