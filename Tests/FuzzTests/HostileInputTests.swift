import Foundation
import Testing
import TestSupport

/// The `sitelens` binary beside the test bundle.

/// Status codes of a Swift runtime trap or abort, and of a signal death as Process reports it.
func isCrash(_ outcome: ProcessOutcome) -> Bool {
    [132, 133, 134, 136, 137, 139].contains(outcome.status) || outcome.timedOut
}

/// A small valid periodic extxyz file and a site table, written into `folder`.
func writeInputs(in folder: URL) throws -> (xyz: String, csv: String) {
    let xyz = folder.appendingPathComponent("ok.xyz")
    try """
    2
    Lattice="5 0 0 0 5 0 0 0 15" Properties=species:S:1:pos:R:3 energy=-1.5 pbc="T T F"
    Cu 0 0 0
    Pt 1.2 1.3 1.0
    3
    Lattice="5 0 0 0 5 0 0 0 15" Properties=species:S:1:pos:R:3 energy=-2.5 pbc="T T F"
    Cu 0 0 0
    Cu 2.5 0 0
    Pt 1.2 1.3 1.0

    """.write(to: xyz, atomically: true, encoding: .utf8)
    let csv = folder.appendingPathComponent("ok.csv")
    let header = "T/B1,B2/Nsur1,Nsur2,Nsur3,Nsur4,Nsur5,Nsur6,Nsub1,Nsub2,Nsub3,Eads,Adsorbate"
    let rows = ["Cu,Ni,Co,Fe,Mo,Cu,Ni,Co,Fe,Mo,-0.5,COOH", "Ni,Co,Fe,Mo,Cu,Ni,Co,Fe,Mo,Cu,-0.7,COOH",
                "Co,Fe,Mo,Cu,Ni,Co,Fe,Mo,Cu,Ni,-0.2,COOH", "Fe,Mo,Cu,Ni,Co,Fe,Mo,Cu,Ni,Co,-0.9,COOH"]
    try ([header] + rows).joined(separator: "\n").appending("\n").write(to: csv, atomically: true, encoding: .utf8)
    return (xyz.path, csv.path)
}

/// One case from issue 10: a file body (or none: the valid input) and the command's arguments,
/// with `INPUT` standing for the file; the error must contain every fragment.
struct HostileCase: CustomStringConvertible, Sendable {
    let name: String
    let file: String?
    let fileExtension: String
    let arguments: [String]
    let fragments: [String]
    var description: String { name }
}

let periodicHeader = "Lattice=\"5 0 0 0 5 0 0 0 5\" energy=-1.0"
let hostileCases: [HostileCase] = [
    HostileCase(name: "atom count near Int.max", file: "9223372036854775807\nenergy=1\nCu 0 0 0\n", fileExtension: "xyz",
                arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":1: field 'atom count'", "at most 1000000"]),
    HostileCase(name: "Properties column count near Int.max",
                file: "1\nProperties=species:S:1:pos:R:3:q:R:9223372036854775807 energy=1\nCu 0 0 0 1\n", fileExtension: "xyz",
                arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":2: field 'Properties'"]),
    HostileCase(name: "coordinate 1e308 in a periodic frame", file: "2\n\(periodicHeader)\nCu 0 0 0\nCu 1e308 0 0\n", fileExtension: "xyz",
                arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":4: field 'pos[x]'"]),
    HostileCase(name: "coordinate 1e9", file: "2\n\(periodicHeader)\nCu 0 0 0\nCu 0 1e9 0\n", fileExtension: "xyz",
                arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":4: field 'pos[y]'"]),
    HostileCase(name: "0.001 Å lattice vector", file: "1\nLattice=\"0.001 0 0 0 5 0 0 0 5\" energy=1\nCu 0 0 0\n", fileExtension: "xyz",
                arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":2: field 'Lattice'", "0.1 Å"]),
    HostileCase(name: "degenerate lattice", file: "1\nLattice=\"5 0 0 5 0 0 0 0 5\" energy=1\nCu 0 0 0\n", fileExtension: "xyz",
                arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":2: field 'Lattice'", "degenerate"]),
    HostileCase(name: "0-atom frame in train", file: "0\nenergy=1\n", fileExtension: "xyz",
                arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run"], fragments: [":1: field 'atom count'", "0 atoms"]),
    HostileCase(name: "NUL inside the energy", file: "1\nenergy=-2.4\u{0} 99999\nCu 0 0 0\n", fileExtension: "xyz",
                arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":2: field 'energy'", "NUL"]),
    HostileCase(name: "NUL before pbc", file: "1\n\(periodicHeader) \u{0}pbc=\"T T F\"\nCu 0 0 0\n", fileExtension: "xyz",
                arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":2:", "NUL"]),
    HostileCase(name: "NUL in an atom line", file: "1\nenergy=1\nCu 0 0\u{0}1 0\n", fileExtension: "xyz",
                arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":3:", "NUL"]),
    HostileCase(name: "CSV unterminated quote",
                file: "T/B1,B2/Nsur1,Nsur2,Nsur3,Nsur4,Nsur5,Nsur6,Nsub1,Nsub2,Nsub3,Eads,Adsorbate\nCu,Ni,Co,Fe,Mo,Cu,Ni,Co,Fe,Mo,-0.5,COOH\n\"Cu,Ni,Co,Fe,Mo,Cu,Ni,Co,Fe,Mo,-0.5,COOH\nCu,Ni,Co,Fe,Mo,Cu,Ni,Co,Fe,Mo,-0.5,COOH\n",
                fileExtension: "csv", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":3: field 'quote'", "never closed"]),
    HostileCase(name: "CSV duplicate header",
                file: "T/B1,T/B1,Nsur2,Nsur3,Nsur4,Nsur5,Nsur6,Nsub1,Nsub2,Nsub3,Eads,Adsorbate\nCu,Ni,Co,Fe,Mo,Cu,Ni,Co,Fe,Mo,-0.5,COOH\n",
                fileExtension: "csv", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: [":1: field 'T/B1'", "twice"]),
    HostileCase(name: "--sigma 1e300", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--sigma", "1e300"], fragments: ["'sigma'"]),
    HostileCase(name: "--sigma 1e-300", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--sigma", "1e-300"], fragments: ["'sigma'", "between pixels"]),
    HostileCase(name: "--extent 1e308", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--extent", "1e308"], fragments: ["'extent'"]),
    HostileCase(name: "--grid 3037000500", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--grid", "3037000500"], fragments: ["'grid'", "budget"]),
    HostileCase(name: "--grid 100000", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--grid", "100000"], fragments: ["'grid'", "100000×100000"]),
    HostileCase(name: "--cutoff inf", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--cutoff", "inf"], fragments: ["'cutoff'", "4.0...20.0"]),
    HostileCase(name: "--depth 1000000", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--depth", "1000000"], fragments: ["'depth'", "1...1024"]),
    HostileCase(name: "--species Xx", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--channels", "species", "--species", "Xx"], fragments: ["'species'", "'Xx'"]),
    HostileCase(name: "--species absent from the data", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--channels", "species", "--species", "Au"], fragments: ["'species'", "no atom of Au"]),
    HostileCase(name: "--out in a missing folder", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/missing/deeper/a.npy"], fragments: ["--out", "does not exist"]),
    HostileCase(name: "--preview in a missing folder", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--preview", "OUT/missing/p.png"], fragments: ["--preview", "does not exist"]),
    HostileCase(name: "predict --out in a missing folder", file: nil, fileExtension: "csv", arguments: ["predict", "--run", "OUT/run", "INPUT", "--out", "OUT/missing/p.csv"], fragments: ["--out", "does not exist"]),
    HostileCase(name: "--group with extxyz", file: nil, fileExtension: "xyz", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--group", "Adsorbate=COOH"], fragments: ["--group", "extxyz"]),
    // Issue 20: site-table choices are refused on the path train takes too (the sharded extxyz reading).
    HostileCase(name: "train --group with extxyz", file: nil, fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "ryczko", "--epochs", "1", "--run-dir", "OUT/run", "--group", "Adsorbate=CO"], fragments: ["--group", "extxyz", "ignored"]),
    HostileCase(name: "train --sites with extxyz", file: nil, fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "atomic", "--epochs", "1", "--run-dir", "OUT/run", "--sites", "a,b"], fragments: ["--sites", "extxyz"]),
    HostileCase(name: "an ASE .traj file", file: "PickleTrajectory binary", fileExtension: "traj", arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run"], fragments: ["ase convert", "hostile.xyz"]),
    HostileCase(name: "an ASE .db file", file: "SQLite format 3", fileExtension: "db", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy"], fragments: ["ase convert", "hostile.xyz"]),
    HostileCase(name: "a gzipped extxyz", file: "\u{1F}\u{8B}\u{8}", fileExtension: "xyz.gz", arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run"], fragments: ["gzip", "ase convert"]),
    HostileCase(name: "energy under another key", file: "1\n\(periodicHeader.replacingOccurrences(of: "energy=", with: "REF_energy="))\nCu 0 0 0\n", fileExtension: "xyz",
                arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run"], fragments: [":2: field 'energy'", "REF_energy", "--energy-key"]),
    HostileCase(name: "--nn-distance 0", file: nil, fileExtension: "csv", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--nn-distance", "0"], fragments: ["--nn-distance", "0.5...10"]),
    HostileCase(name: "--nn-distance nan", file: nil, fileExtension: "csv", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--nn-distance", "nan"], fragments: ["--nn-distance"]),
    HostileCase(name: "--adsorbate-height nan", file: nil, fileExtension: "csv", arguments: ["rasterise", "INPUT", "--out", "OUT/a.npy", "--adsorbate-height", "nan"], fragments: ["--adsorbate-height"]),
    HostileCase(name: "--hidden 0", file: nil, fileExtension: "csv", arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run", "--hidden", "0"], fragments: ["--hidden", "1...65536"]),
    HostileCase(name: "--dense 0", file: nil, fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "ryczko", "--epochs", "1", "--run-dir", "OUT/run", "--dense", "0"], fragments: ["--dense"]),
    HostileCase(name: "--depth 1000000 in train", file: nil, fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "ryczko", "--epochs", "1", "--run-dir", "OUT/run", "--depth", "1000000"], fragments: ["'depth'"]),
    HostileCase(name: "--atomic-hidden 0", file: nil, fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "atomic", "--epochs", "1", "--run-dir", "OUT/run", "--atomic-hidden", "0"], fragments: ["--atomic-hidden", "1...65536"]),
    HostileCase(name: "--radial-hidden -1", file: nil, fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "atomic", "--patch-shape", "radial", "--epochs", "1", "--run-dir", "OUT/run", "--radial-hidden=-1"], fragments: ["--radial-hidden", "0...65536"]),
    HostileCase(name: "--filters 1000000", file: nil, fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "atomic", "--epochs", "1", "--run-dir", "OUT/run", "--filters", "1000000"], fragments: ["--filters", "1...1024"]),
    HostileCase(name: "--patch-size 1000", file: nil, fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "atomic", "--epochs", "1", "--run-dir", "OUT/run", "--patch-size", "1000"], fragments: ["--patch-size", "3...255"]),
    HostileCase(name: "--patch-spacing 0", file: nil, fileExtension: "xyz", arguments: ["train", "INPUT", "--model", "atomic", "--epochs", "1", "--run-dir", "OUT/run", "--patch-spacing", "0"], fragments: ["--patch-spacing"]),
    HostileCase(name: "--descriptor-names nope", file: nil, fileExtension: "csv", arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run", "--descriptor-names", "Z,nope"], fragments: ["--descriptor-names", "'nope'", "electronegativity"]),
    HostileCase(name: "--descriptor-names empty", file: nil, fileExtension: "csv", arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run", "--descriptor-names", ","], fragments: ["--descriptor-names"]),
    HostileCase(name: "--blas-threads 100000", file: nil, fileExtension: "csv", arguments: ["train", "INPUT", "--epochs", "1", "--run-dir", "OUT/run", "--blas-threads", "100000"], fragments: ["--blas-threads", "1...1024"]),
]

struct HostileInputTests {
    /// Each case of issue 10 ends with a non-zero exit and a message naming the file and line or
    /// the option, never a trap.
    @Test(arguments: hostileCases)
    func issueCaseIsRejectedCleanly(_ hostile: HostileCase) throws {
        try expectRejectedCleanly(hostile)
    }

    /// Issue 20: a start that fails on the data after the run folder was made (a frame without
    /// the site labels the first ones have) leaves no folder that blocks the corrected command.
    @Test func aFailedStartDoesNotBlockTheCorrectedCommand() throws {
        let folder = try temporaryFolder("sitelens-hostile")
        defer { try? FileManager.default.removeItem(at: folder) }
        let header = "Lattice=\"5 0 0 0 5 0 0 0 15\" Properties=species:S:1:pos:R:3:site:S:1 pbc=\"T T F\""
        let frames = ["2\n\(header) energy=-1.5\nCu 0 0 0 a\nPt 1.2 1.3 1.0 b\n", "2\n\(header) energy=-1.7\nPt 0 0 0 a\nCu 1.2 1.3 1.0 b\n",
                      "2\n\(header.replacingOccurrences(of: ":site:S:1", with: "")) energy=-2.5\nCu 0 0 0\nPt 1.2 1.3 1.0\n"]
        let data = folder.appendingPathComponent("mixed.xyz")
        try frames.joined().write(to: data, atomically: true, encoding: .utf8)
        let run = folder.appendingPathComponent("run").path
        let failed = try runProcess(sitelens, ["train", data.path, "--epochs", "1", "--run-dir", run], environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 120)
        try #require(failed.status != 0 && failed.stderr.contains("line 9"), "\(failed.stdout) \(failed.stderr)")
        let corrected = try runProcess(sitelens, ["train", data.path, "--model", "ryczko", "--epochs", "1", "--run-dir", run],
                                       environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 120)
        #expect(corrected.status == 0, "\(corrected.stderr)")
    }

    /// The valid inputs these cases start from are accepted (so the rejections above are the
    /// hostile part's doing).
    @Test func theValidInputsAreAccepted() throws {
        let folder = try temporaryFolder("sitelens-hostile")
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputs = try writeInputs(in: folder)
        for input in [inputs.xyz, inputs.csv] {
            let outcome = try runProcess(sitelens, ["rasterise", input, "--out", folder.appendingPathComponent("a.npy").path], timeout: 120)
            #expect(outcome.status == 0, "\(input): \(outcome.stderr)")
        }
    }
}

/// Runs `hostile` against valid inputs written to a fresh folder: a non-zero exit and a message
/// holding every fragment (and the file, when the case brings one), never a trap.
func expectRejectedCleanly(_ hostile: HostileCase) throws {
    let folder = try temporaryFolder("sitelens-hostile")
    defer { try? FileManager.default.removeItem(at: folder) }
    let inputs = try writeInputs(in: folder)
    var input = hostile.fileExtension == "csv" ? inputs.csv : inputs.xyz
    if let body = hostile.file {
        input = folder.appendingPathComponent("hostile.\(hostile.fileExtension)").path
        try Data(body.utf8).write(to: URL(fileURLWithPath: input))
    }
    let arguments = hostile.arguments.map { $0 == "INPUT" ? input : $0.replacingOccurrences(of: "OUT/", with: folder.path + "/") }
    let outcome = try runProcess(sitelens, arguments, environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 120)
    let message = outcome.stderr + outcome.stdout
    #expect(!isCrash(outcome), "\(hostile.name): status \(outcome.status): \(message)")
    #expect(outcome.status != 0, "\(hostile.name) was accepted: \(message)")
    for fragment in hostile.fragments {
        #expect(message.contains(fragment), "\(hostile.name): '\(fragment)' not in: \(message)")
    }
    if hostile.file != nil { #expect(message.contains(input), "\(hostile.name): the file is not named: \(message)") }
}
