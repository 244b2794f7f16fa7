import Basics
import Foundation
import Testing
@testable import Structures

/// Hostile extxyz and site-table text (issue 10): each is refused with its line and field.
struct HostileTextTests {
    func extxyzError(_ text: String) -> InputError? {
        do { _ = try ExtXYZ.parse(text, file: "h.xyz"); return nil } catch { return error as? InputError }
    }

    @Test func countsThatWouldOverflowAreRefused() {
        #expect(extxyzError("9223372036854775807\nenergy=1\nCu 0 0 0\n") == InputError(file: "h.xyz", line: 1, field: "atom count",
            "9223372036854775807 atoms asked for; at most 1000000 per frame are read"))
        // Within the per-frame limit but past the end of the file: no index arithmetic overflows.
        #expect(extxyzError("999999\nenergy=1\nCu 0 0 0\n")?.problem.hasPrefix("truncated frame") == true)
        let columns = extxyzError("1\nProperties=species:S:1:pos:R:3:q:R:9223372036854775807\nCu 0 0 0 1\n")
        #expect(columns?.line == 2 && columns?.field == "Properties")
        let sum = extxyzError("1\nProperties=species:S:1:pos:R:3:q:R:999:r:R:999\nCu 0 0 0 1\n")
        #expect(sum?.field == "Properties" && sum?.problem.contains("1000") == true)
    }

    @Test func nulBytesAreRefusedWhereTheyAre() {
        #expect(extxyzError("1\nenergy=-2.4\u{0} 99999\nCu 0 0 0\n").map { ($0.line, $0.field) }! == (2, "energy"))
        #expect(extxyzError("1\nLattice=\"5 0 0 0 5 0 0 0 5\" \u{0}pbc=\"T T F\"\nCu 0 0 0\n")?.line == 2)
        #expect(extxyzError("1\nenergy=1\nCu 0 0\u{0}1 0\n").map { ($0.line, $0.field) }! == (3, "pos"))
        #expect(extxyzError("1\u{0}\nenergy=1\nCu 0 0 0\n")?.field == "atom count")
    }

    @Test func coordinatesAndCellsHaveBounds() throws {
        #expect(extxyzError("1\nenergy=1\nCu 0 1e308 0\n").map { ($0.line, $0.field) }! == (3, "pos[y]"))
        #expect(extxyzError("1\nenergy=1\nCu 0 0 1000000.5\n")?.field == "pos[z]")
        #expect(extxyzError("1\nenergy=1\nCu 0 0 1000000\n") == nil)
        #expect(extxyzError("1\nLattice=\"0.001 0 0 0 5 0 0 0 5\"\nCu 0 0 0\n")?.field == "Lattice")
        #expect(extxyzError("1\nLattice=\"5 0 0 5 0.01 0 0 0 5\"\nCu 0 0 0\n")?.problem.contains("degenerate") == true)
        #expect(extxyzError("1\nLattice=\"1e7 0 0 0 5 0 0 0 5\"\nCu 0 0 0\n")?.field == "Lattice")
        // A zero vector along a direction that is not periodic is fine, as ASE writes slabs.
        #expect(extxyzError("1\nLattice=\"5 0 0 0 5 0 0 0 0\" pbc=\"T T F\"\nCu 0 0 0\n") == nil)
        #expect(extxyzError("1\npbc=\"T T\"\nCu 0 0 0\n")?.field == "pbc")
    }

    @Test func framesWithoutAtomsAreRefused() {
        #expect(extxyzError("0\nenergy=1\n")?.problem.contains("0 atoms") == true)
        #expect(extxyzError("1\nenergy=1\nCu 0 0 0\n0\nenergy=2\n")?.line == 4)
    }

    func tableError(_ text: String) -> InputError? {
        do { _ = try SiteTable.parse(text, file: "h.csv", options: .init(targetColumn: "E", groupColumn: "kind")); return nil }
        catch { return error as? InputError }
    }

    @Test func anUnterminatedQuoteIsFoundAtItsLine() throws {
        let text = "a,b,E,kind\nCu,Ni,1,x\n\"Cu,Ni,2,x\nCu,Ni,3,x\nCu,Ni,4,x\n"
        #expect(tableError(text) == InputError(file: "h.csv", line: 3, field: "quote", "a quoted field opens here and is never closed"))
        // Closed quotes (with a doubled quote and a line break inside) still read as before.
        let quoted = try SiteTable.parse("a,b,E,kind\n\"Cu\",Ni,1,\"x \"\"y\"\"\nz\"\nCu,Ni,2,x\n", file: "h.csv",
                                         options: .init(targetColumn: "E", groupColumn: "kind"))
        #expect(quoted.rows.count == 2 && quoted.rows[1].line == 4)
    }

    @Test func duplicateHeadersAndNulBytesAreRefused() {
        #expect(tableError("a,a,E,kind\nCu,Ni,1,x\n").map { ($0.line, $0.field) }! == (1, "a"))
        #expect(tableError("a,,E,kind\nCu,Ni,1,x\n").map { ($0.line, $0.field) }! == (1, "header"))
        #expect(tableError("a,b,E,kind\nCu,Ni,1\u{0}5,x\n").map { ($0.line, $0.field) }! == (2, "E"))
    }

    @Test func siteTableChoicesAreRefusedForExtxyz() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("a.xyz").path
        try "1\nenergy=1\nCu 0 0 0\n".write(toFile: path, atomically: true, encoding: .utf8)
        var options = SiteTable.Options()
        try options.select(group: "Adsorbate=COOH")
        #expect(throws: InputError.self) { try StructureSource(path: path, siteOptions: options).load() }
        #expect(try StructureSource(path: path).load().structures.count == 1)
    }
}
