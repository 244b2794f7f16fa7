import Basics
import Testing
import TestSupport
@testable import Structures

struct SiteTableTests {
    @Test(.enabled(if: Available.sharedData, "../shared/data/hea_co2rr_sites.csv is not beside this clone"))
    func theRealFileStopsAtItsMisspeltElement() throws {
        let path = try #require(sharedHEAFile())
        do {
            _ = try SiteTable.read(path: path)
            Issue.record("the 'Ci' row was accepted")
        } catch let error as InputError {
            #expect(error.file == path && error.line == 683 && error.field == "Nsub1")
            #expect(error.problem == "unknown element 'Ci'")
        }
    }

    @Test(.enabled(if: Available.sharedData, "../shared/data/hea_co2rr_sites.csv is not beside this clone"))
    func theRealFileLoadsWhenToldToSkip() throws {
        let path = try #require(sharedHEAFile())
        let all = try SiteTable.read(path: path, options: .init(skipInvalid: true))
        #expect(all.rows.count == 690)
        #expect(all.skipped.map(\.line) == [683])
        #expect(all.skippedSummary?.contains("skipped 1 invalid row (line 683)") == true)
        #expect(all.siteNames == ["T/B1", "B2/Nsur1", "Nsur2", "Nsur3", "Nsur4", "Nsur5", "Nsur6", "Nsub1", "Nsub2", "Nsub3"])
        #expect(all.elements == ["Fe", "Co", "Ni", "Cu", "Mo"])
        #expect(all.rows.first?.line == 2 && all.rows.first?.target == -2.117393 && all.rows.first?.group == "CO")
        #expect(all.rows.last?.line == 692 && all.rows.last?.group == "CO")  // the last line has no line end

        var options = SiteTable.Options()
        try options.select(group: "Adsorbate=COOH")
        let cooh = try SiteTable.read(path: path, options: options)
        #expect(cooh.rows.count == 280 && cooh.rows.allSatisfy { $0.group == "COOH" })
        try options.select(group: "Adsorbate=CHO")
        #expect(try SiteTable.read(path: path, options: options).rows.count == 216)
    }

    let small = "a,b,E,kind\r\nFe,Co,-1.5,X\r\nNi,Cu,0.25,Y\r\nMo,Fe,1e-1,X"

    @Test func columnsAreOptionsAndLineEndsDoNotMatter() throws {
        var options = SiteTable.Options(targetColumn: "E", groupColumn: "kind")
        let table = try SiteTable.parse(small, file: "s.csv", options: options)
        #expect(table.siteNames == ["a", "b"])
        #expect(table.rows.map(\.target) == [-1.5, 0.25, 0.1])
        #expect(table.rows.map(\.line) == [2, 3, 4])
        try options.select(group: "kind=X")
        #expect(try SiteTable.parse(small.replacingOccurrences(of: "\r\n", with: "\n"), file: "s.csv", options: options).rows.map(\.line) == [2, 4])
        options.siteColumns = ["b"]
        #expect(try SiteTable.parse(small, file: "s.csv", options: options).rows.map(\.elements) == [["Co"], ["Fe"]])
        #expect(throws: InputError.self) { try options.select(group: "kind") }
    }

    func failure(_ text: String, _ options: SiteTable.Options = .init(targetColumn: "E", groupColumn: "kind")) -> InputError? {
        do { _ = try SiteTable.parse(text, file: "s.csv", options: options); return nil } catch { return error as? InputError }
    }

    @Test func badRowsNameLineAndColumn() {
        #expect(failure("")?.problem.contains("empty file") == true)
        let number = failure("a,b,E,kind\nFe,Co,low,X\n")
        #expect(number?.line == 2 && number?.field == "E" && number?.problem == "expected a finite number, found 'low'")
        #expect(failure("a,b,E,kind\nFe,Co,inf,X\n")?.field == "E")
        let element = failure("a,b,E,kind\nFe,Co,1,X\nFe,Zz,2,X\n")
        #expect(element?.line == 3 && element?.field == "b" && element?.problem == "unknown element 'Zz'")
        #expect(failure("a,b,E,kind\nFe,Co,1\n")?.line == 2)
        let missing = failure("a,b,kind\nFe,Co,X\n")
        #expect(missing?.line == 1 && missing?.field == "E")
    }

    @Test func theTemplatePlacesEverySiteAtTheNeighbourDistance() throws {
        let template = SiteTemplate.fcc111Top(nearestNeighbour: 2.5, adsorbateHeight: 1.9)
        let s = try template.structure(elements: ["Fe", "Co", "Ni", "Cu", "Mo", "Fe", "Co", "Ni", "Cu", "Mo"], energy: -1, adsorbate: "COOH")
        #expect(s.count == 11 && s.symbols.last == "X" && s.info["adsorbate"] == "COOH")
        #expect(s.siteLabels?.first == "T/B1" && s.siteLabels?.last == "adsorbate")
        for k in 1..<10 {
            let d = s.positions[k] - s.positions[0]
            #expect(abs((d * d).sum().squareRoot() - 2.5) < 1e-12, "site \(k) is not a nearest neighbour of the centre")
        }
        // Each subsurface atom touches exactly two surface neighbours (it sits under a hollow).
        for k in 7..<10 {
            let touching = (1..<7).filter { j in
                let d = s.positions[k] - s.positions[j]
                return abs((d * d).sum().squareRoot() - 2.5) < 1e-9
            }
            #expect(touching.count == 2)
            #expect(s.positions[k].z < 0)
        }
        #expect(s.positions[10] == SIMD3(0, 0, 1.9))
        #expect(throws: InputError.self) { try template.structure(elements: ["Fe"], energy: nil, adsorbate: nil) }
    }
}
