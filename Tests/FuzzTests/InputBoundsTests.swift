import Foundation
import Testing
import TestSupport

private let twoFrameHeader = "Lattice=\"5 0 0 0 5 0 0 0 15\" energy=-1.5 pbc=\"T T F\""

/// Issue 24's crashes and unbounded inputs: each rejected with the file, line and field, or
/// the option and its range.
let boundedCases: [HostileCase] = [
    HostileCase(name: "a property declared twice", file: "2\n\(twoFrameHeader) Properties=species:S:1:pos:R:3:pos:R:3\nCu 0 0 0 1 1 1\nPt 1 1 1 2 2 2\n",
                fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":2: field 'Properties'", "'pos' is declared twice"]),
    HostileCase(name: "an extra column declared twice", file: "1\n\(twoFrameHeader) Properties=species:S:1:pos:R:3:site:S:1:site:S:1\nCu 0 0 0 a b\n",
                fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":2: field 'Properties'", "'site' is declared twice"]),
    HostileCase(name: "a property without a name", file: "1\n\(twoFrameHeader) Properties=species:S:1:pos:R:3::S:1\nCu 0 0 0 a\n",
                fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":2: field 'Properties'", "no name"]),
    HostileCase(name: "--ensemble 2^63-1", file: nil, fileExtension: "csv",
                arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run", "--ensemble", "9223372036854775807"], fragments: ["--ensemble", "1...1024"]),
    HostileCase(name: "--interaction-range 1e300", file: nil, fileExtension: "xyz",
                arguments: ["train", "INPUT", "--model", "atomic", "--epochs", "1", "--run-dir", "OUT/run", "--interaction-range", "1e300"], fragments: ["--interaction-range"]),
    HostileCase(name: "generate --structures 2^63-1", file: nil, fileExtension: "csv",
                arguments: ["generate", "--out", "OUT/g.csv", "--structures", "9223372036854775807"], fragments: ["--structures", "1...1000000"]),
    HostileCase(name: "generate into a missing folder", file: nil, fileExtension: "csv",
                arguments: ["generate", "--out", "OUT/missing/g.csv"], fragments: ["--out", "does not exist"]),
    HostileCase(name: "an extxyz energy of 1e200 eV", file: "1\nLattice=\"5 0 0 0 5 0 0 0 15\" energy=1e200 pbc=\"T T F\"\nCu 0 0 0\n",
                fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "atomic", "--epochs", "1", "--run-dir", "OUT/run"], fragments: [":2: field 'energy'", "1e200"]),
    HostileCase(name: "a site-table target of -1e200 eV",
                file: "T/B1,B2/Nsur1,Nsur2,Nsur3,Nsur4,Nsur5,Nsur6,Nsub1,Nsub2,Nsub3,Eads,Adsorbate\nCu,Ni,Co,Fe,Mo,Cu,Ni,Co,Fe,Mo,-1e200,COOH\n",
                fileExtension: "csv", arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run"], fragments: [":2: field 'Eads'", "beyond"]),
    HostileCase(name: "fractions that leave one structure to train on", file: nil, fileExtension: "csv",
                arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run", "--validation-fraction", "0.7"], fragments: ["--validation-fraction", "at least 2"]),
]

struct InputBoundsTests {
    @Test(arguments: boundedCases)
    func boundedCaseIsRejectedCleanly(_ hostile: HostileCase) throws {
        try expectRejectedCleanly(hostile)
    }

    /// `generate` into a missing folder creates nothing.
    @Test func generateCreatesNoFolder() throws {
        let folder = try temporaryFolder("sitelens-generate")
        defer { try? FileManager.default.removeItem(at: folder) }
        _ = try runProcess(sitelens, ["generate", "--out", folder.appendingPathComponent("missing/x.csv").path], timeout: 60)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("missing").path))
    }

    /// A site table saved by Excel as "CSV UTF-8" starts with a byte-order mark: it is read as
    /// the same table, the mark in no column name.
    @Test func aByteOrderMarkIsNotPartOfTheFirstColumn() throws {
        let folder = try temporaryFolder("sitelens-bom")
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try writeInputs(in: folder).csv
        // The target first, so the mark would land in the target's name.
        let rows = try String(contentsOfFile: plain, encoding: .utf8).split(separator: "\n").map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return ([fields[10]] + fields[..<10] + [fields[11]]).joined(separator: ",")
        }
        let marked = folder.appendingPathComponent("excel.csv")
        try (Data([0xEF, 0xBB, 0xBF]) + Data((rows.joined(separator: "\r\n") + "\r\n").utf8)).write(to: marked)
        let run = folder.appendingPathComponent("run")
        let outcome = try runProcess(sitelens, ["train", marked.path, "--epochs", "1", "--run-dir", run.path], timeout: 120)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let model = try String(contentsOf: run.appendingPathComponent("model/member-0.json"), encoding: .utf8)
        #expect(!model.contains("\u{FEFF}") && !model.contains("\\ufeff"), "the mark leaked into the model")
        #expect(model.contains("\"T\\/B1\"") || model.contains("\"T/B1\""), "\(model.prefix(400))")
    }

    /// An `atomic` structure of dummy atoms only has no per-atom items: it predicts 0 and trains
    /// nothing, beside structures that do have atoms, instead of trapping in the network.
    @Test func anAtomicStructureOfDummyAtomsOnlyDoesNotTrap() throws {
        let folder = try temporaryFolder("sitelens-dummy")
        defer { try? FileManager.default.removeItem(at: folder) }
        let xyz = try writeInputs(in: folder).xyz
        let dummy = "2\n\(twoFrameHeader) Properties=species:S:1:pos:R:3\nX 0 0 0\nX 1 1 1\n"
        let body = try String(contentsOfFile: xyz, encoding: .utf8)
        let mixed = folder.appendingPathComponent("mixed.xyz")
        try String(repeating: body + dummy, count: 4).write(to: mixed, atomically: true, encoding: .utf8)
        let outcome = try runProcess(sitelens, ["train", mixed.path, "--model", "atomic", "--epochs", "1", "--patch-size", "5",
                                                        "--filters", "2", "--run-dir", folder.appendingPathComponent("run").path],
                                     environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 300)
        #expect(!isCrash(outcome), "status \(outcome.status): \(outcome.stderr)")
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let onlyDummies = folder.appendingPathComponent("dummies.xyz")
        try String(repeating: dummy, count: 6).write(to: onlyDummies, atomically: true, encoding: .utf8)
        let refused = try runProcess(sitelens, ["train", onlyDummies.path, "--model", "atomic", "--epochs", "1", "--patch-size", "5",
                                                        "--run-dir", folder.appendingPathComponent("run2").path], timeout: 300)
        #expect(!isCrash(refused), "status \(refused.status): \(refused.stderr)")
    }

    /// A patch spacing so small that the patch size reaching the interaction range overflows an
    /// Int: the warning says no patch size reaches it, and nothing traps.
    @Test func aTinyPatchSpacingWarnsWithoutTrapping() throws {
        let folder = try temporaryFolder("sitelens-spacing")
        defer { try? FileManager.default.removeItem(at: folder) }
        let xyz = try writeInputs(in: folder).xyz
        let outcome = try runProcess(sitelens, ["train", xyz, "--model", "atomic", "--epochs", "1", "--patch-spacing", "1e-300",
                                                        "--run-dir", folder.appendingPathComponent("run").path], timeout: 300)
        #expect(!isCrash(outcome), "status \(outcome.status): \(outcome.stderr)")
        #expect((outcome.stdout + outcome.stderr).contains("no --patch-size up to 255"), "\(outcome.stdout) \(outcome.stderr)")
    }
}
