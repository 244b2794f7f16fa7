import Foundation
import Testing
import TestSupport

/// `sitelens train --model atomic` says so at the start when its patch stops short of the data's
/// interaction range (given with --interaction-range, or estimated from the structures).
struct PatchReachTests {

    /// 16 built-in Lennard-Jones clusters written to `folder/lj.xyz`.
    func clusters(in folder: URL) throws -> URL {
        let data = folder.appendingPathComponent("lj.xyz")
        let made = try runProcess(sitelens, ["generate", "--kind", "lennard-jones", "--structures", "16", "--out", data.path])
        #expect(made.status == 0, "\(made.stderr)")
        return data
    }

    func train(_ data: URL, _ folder: URL, _ name: String, _ extra: [String]) throws -> ProcessOutcome {
        try runProcess(sitelens, ["train", data.path, "--model", "atomic", "--epochs", "1", "--batch-size", "8",
                                  "--run-dir", folder.appendingPathComponent(name).path] + extra, timeout: 300)
    }

    @Test func theWarningNamesThePatchReachAndTheRange() throws {
        let folder = try temporaryFolder("sitelens-patch-reach")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try clusters(in: folder)

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
        #expect(bad.status != 0 && bad.stderr.contains("--interaction-range must be in (0, "), "\(bad.stderr)")
    }

    /// Lennard-Jones clusters lie in one plane: no stacked atoms, so 2-D images and no note.
    /// With one atom lifted straight above another, `--depth auto` gives the atomic patches
    /// z-slices (and says so); an explicit `--depth 1` keeps them 2-D and is warned about.
    @Test func stackedAtomsGetZSlicesUnlessTwoDimensionsAreAskedFor() throws {
        let folder = try temporaryFolder("sitelens-projection")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try clusters(in: folder)
        let run = try train(data, folder, "flat", [])
        #expect(run.status == 0 && !run.stdout.contains("merge atoms") && !run.stdout.contains("auto chose"), "\(run.stdout)")

        let lifted = try liftFirstAtom(of: data, into: folder, as: "Ar")
        let auto = try train(lifted, folder, "auto", [])
        #expect(auto.status == 0 && auto.stdout.contains("--depth auto chose 5 z-slices for the atomic patches")
                && auto.stdout.contains("structure 1, atoms 1 and 2") && !auto.stdout.contains("merge atoms"), "\(auto.stdout)\(auto.stderr)")
        let model = try String(contentsOf: folder.appendingPathComponent("auto/model/member-0.json"), encoding: .utf8)
        #expect(model.contains("\"depth\":5") || model.contains("\"depth\" : 5"), "\(model.prefix(600))")
        let flat = try train(lifted, folder, "flat2d", ["--depth", "1"])
        #expect(flat.status == 0 && flat.stdout.contains("merge atoms that lie above one another")
                && flat.stdout.contains("structure 1, atoms 1 and 2") && flat.stdout.contains("--depth auto"), "\(flat.stdout)\(flat.stderr)")
    }

    /// `--atomic-hidden` and `--radial-hidden` reach the saved architecture.
    @Test func hiddenWidthsReachTheModel() throws {
        let folder = try temporaryFolder("sitelens-atomic-hidden")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try clusters(in: folder)
        for (name, extra) in [("square", ["--atomic-hidden", "5"]), ("radial", ["--patch-shape", "radial", "--patch-size", "50", "--patch-spacing", "0.05",
                                                                                 "--patch-sigma", "0.05", "--radial-hidden", "5"])] {
            let run = try train(data, folder, name, extra)
            #expect(run.status == 0, "\(run.stderr)")
            let model = try String(contentsOf: folder.appendingPathComponent("\(name)/model/member-0.json"), encoding: .utf8)
            #expect(model.replacingOccurrences(of: " ", with: "").contains("\"units\":5"), "\(name): \(model.prefix(800))")
        }
    }

    /// Whole images (`ryczko`): `--channels auto` takes species channels where they part the
    /// stacked atoms (a Kr atom over an Ar one), and keeps one channel where they cannot (Ar over Ar).
    @Test func wholeImagesGetSpeciesChannelsWhereTheyPartStackedAtoms() throws {
        let folder = try temporaryFolder("sitelens-projection-images")
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try clusters(in: folder)
        let small = ["--model", "ryczko", "--grid", "32", "--extent", "6", "--blocks", "2", "--dense", "8"]
        let krypton = try train(try liftFirstAtom(of: data, into: folder, as: "Kr"), folder, "kr", small)
        #expect(krypton.status == 0 && krypton.stdout.contains("--channels auto chose one channel per species (Ar, Kr)")
                && !krypton.stdout.contains("merge atoms"), "\(krypton.stdout)\(krypton.stderr)")
        let argon = try train(try liftFirstAtom(of: data, into: folder, as: "Ar"), folder, "ar", small)
        #expect(argon.status == 0 && !argon.stdout.contains("auto chose") && argon.stdout.contains("merge atoms that lie above one another"),
                "\(argon.stdout)\(argon.stderr)")
    }

    /// The clusters with a copy of the first frame's first atom, as `symbol`, 2 Å straight above it.
    func liftFirstAtom(of data: URL, into folder: URL, as symbol: String) throws -> URL {
        let text = try String(contentsOf: data, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let firstAtom = lines[2].split(separator: " ").map(String.init)
        let count = try #require(Int(lines[0]))
        let stacked = [symbol, firstAtom[1], firstAtom[2], "2.0"].joined(separator: " ")
        let lifted = folder.appendingPathComponent("lifted-\(symbol).xyz")
        try ([String(count + 1), lines[1], lines[2], stacked] + lines[3...]).joined(separator: "\n").write(to: lifted, atomically: true, encoding: .utf8)
        return lifted
    }
}
