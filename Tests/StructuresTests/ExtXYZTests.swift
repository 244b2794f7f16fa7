import Basics
import Foundation
import Testing
import TestSupport
@testable import Structures

struct ExtXYZTests {
    let twoFrames = """
    3
    Lattice="5.0 0.0 0.0 0.0 5.0 0.0 0.0 0.0 20.0" Properties=species:S:1:pos:R:3:site:S:1:forces:R:3 energy=-12.5 pbc="T T F" name="slab one" flag
    Cu 0.0 0.0 0.0 T/B1 0.1 0.2 0.3
    Ni 2.5 0.0 0.0 Nsur2 0 0 0
    Fe 1.25 2.1 -2.0 Nsub1 -1 -2 -3
    2
    Properties=species:S:1:pos:R:3 free_energy=3.25
    H 0 0 0
    H 0 0 0.74

    """

    @Test func readsFramesKeysAndColumns() throws {
        let frames = try ExtXYZ.parse(twoFrames, file: "t.xyz")
        #expect(frames.count == 2)
        let a = frames[0]
        #expect(a.symbols == ["Cu", "Ni", "Fe"])
        #expect(a.positions[2] == SIMD3(1.25, 2.1, -2.0))
        #expect(a.cell?[2] == SIMD3(0, 0, 20))
        #expect(a.pbc == [true, true, false])
        #expect(a.energy == -12.5)
        #expect(a.siteLabels == ["T/B1", "Nsur2", "Nsub1"])
        #expect(a.info["name"] == "slab one")
        #expect(a.info["flag"] == "T")
        #expect(a.perAtomColumns["forces"] == .real([[0.1, 0.2, 0.3], [0, 0, 0], [-1, -2, -3]]))
        #expect(frames[1].energy == nil)
        #expect(frames[1].pbc == [false, false, false])
        let other = try ExtXYZ.parse(twoFrames, file: "t.xyz", options: .init(energyKey: "free_energy"))
        #expect(other[1].energy == 3.25)
    }

    @Test func writesWhatItReads() throws {
        let frames = try ExtXYZ.parse(twoFrames, file: "t.xyz")
        let again = try ExtXYZ.parse(ExtXYZ.format(frames), file: "again.xyz")
        #expect(again == frames)
    }

    @Test func crlfLineEndsAreRead() throws {
        let frames = try ExtXYZ.parse(twoFrames.replacingOccurrences(of: "\n", with: "\r\n"), file: "t.xyz")
        #expect(frames.count == 2 && frames[0].siteLabels?[2] == "Nsub1")
    }

    func failure(_ text: String, _ options: ExtXYZ.Options = .init()) -> InputError? {
        do { _ = try ExtXYZ.parse(text, file: "bad.xyz", options: options); return nil } catch { return error as? InputError }
    }

    @Test func badInputNamesFileLineAndField() {
        let header = "Properties=species:S:1:pos:R:3 energy=1.0"
        // Empty file.
        #expect(failure("")?.description == "bad.xyz: empty file: no frames")
        #expect(failure("\n\n")?.problem == "empty file: no frames")
        // Truncated frame: 3 atoms declared, 2 present.
        let truncated = failure("3\n\(header)\nH 0 0 0\nH 0 0 1\n")
        #expect(truncated?.line == 1 && truncated?.field == "atom count")
        #expect(truncated?.problem.contains("truncated frame") == true)
        // Atom-count mismatch: 1 declared, 2 present, so the second atom is read as a count.
        let mismatch = failure("1\n\(header)\nH 0 0 0\nH 0 0 1\n")
        #expect(mismatch?.line == 4 && mismatch?.field == "atom count")
        #expect(mismatch?.problem.contains("does the atom count") == true)
        // Non-numeric, NaN and infinite coordinates.
        let word = failure("1\n\(header)\nH 0 zero 0\n")
        #expect(word?.line == 3 && word?.field == "pos[y]" && word?.problem.contains("'zero'") == true)
        #expect(failure("1\n\(header)\nH 0 0 nan\n")?.field == "pos[z]")
        #expect(failure("1\n\(header)\nH inf 0 0\n")?.field == "pos[x]")
        // Unknown element.
        let element = failure("2\n\(header)\nH 0 0 0\nQq 0 0 1\n")
        #expect(element?.line == 4 && element?.field == "species" && element?.problem == "unknown element 'Qq'")
        // Missing energy when one is required.
        let energy = failure("1\nProperties=species:S:1:pos:R:3\nH 0 0 0\n", .init(requireEnergy: true))
        #expect(energy?.line == 2 && energy?.field == "energy" && energy?.problem.contains("missing energy") == true)
        // Non-finite energy, bad lattice, wrong column count.
        #expect(failure("1\nenergy=NaN\nH 0 0 0\n")?.field == "energy")
        #expect(failure("1\nLattice=\"1 0 0 0 1 0\"\nH 0 0 0\n")?.field == "Lattice")
        #expect(failure("1\n\(header)\nH 0 0\n")?.field == "atom 1")
    }

    @Test(.enabled(if: Available.ase, "python3 cannot import ase here (Launch/test installs it with pip when it can)"))
    func aseReadsWhatSiteLensWrites() throws {
        var frames = try ExtXYZ.parse(twoFrames, file: "t.xyz")
        frames[0].setColumn("contribution", .real([[-1.5], [0.25], [2]]))
        let folder = try temporaryFolder()
        let url = folder.appendingPathComponent("out.xyz")
        try ExtXYZ.write(frames, to: url)
        let script = """
        import ase.io
        frames = ase.io.read('\(url.path)', index=':')
        a = frames[0]
        print(len(frames), a.get_chemical_symbols(), a.get_potential_energy(), list(a.arrays['site']),
              [round(float(x), 6) for x in a.arrays['contribution']], [bool(p) for p in a.pbc], float(a.cell[2][2]))
        """
        let run = try runProcess("python3", ["-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                == "2 ['Cu', 'Ni', 'Fe'] -12.5 ['T/B1', 'Nsur2', 'Nsub1'] [-1.5, 0.25, 2.0] [True, True, False] 20.0")
    }
}
