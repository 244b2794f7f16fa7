import Testing
@testable import Structures

struct ElementTests {
    @Test func theWholeTableIsThere() {
        #expect(PeriodicTable.all.count == 118)
        #expect(PeriodicTable.element("Og")?.atomicNumber == 118)
        #expect(PeriodicTable.element(atomicNumber: 26)?.symbol == "Fe")
        #expect(PeriodicTable.element("Ci") == nil)
        #expect(PeriodicTable.element("fe") == nil)
    }

    @Test func groupsAndPeriodsFollowTheTable() {
        let expected: [(String, Int?, Int)] = [("H", 1, 1), ("He", 18, 1), ("B", 13, 2), ("Ar", 18, 3), ("Fe", 8, 4),
                                                ("Cu", 11, 4), ("Mo", 6, 5), ("La", 3, 6), ("Ce", nil, 6), ("Lu", nil, 6),
                                                ("Hf", 4, 6), ("Pt", 10, 6), ("Rn", 18, 6), ("U", nil, 7), ("Rf", 4, 7), ("Og", 18, 7)]
        for (symbol, group, period) in expected {
            let element = PeriodicTable.element(symbol)!
            #expect(element.group == group, "\(symbol) group")
            #expect(element.period == period, "\(symbol) period")
        }
    }

    @Test func electronegativityAndRadiusAreLookedUp() {
        #expect(PeriodicTable.element("Fe")?.electronegativity == 1.83)
        #expect(PeriodicTable.element("W")?.electronegativity == 2.36)
        #expect(PeriodicTable.element("Au")?.electronegativity == 2.54)
        #expect(PeriodicTable.element("U")?.electronegativity == 1.38)
        #expect(PeriodicTable.element("Ne")?.electronegativity == nil)
        #expect(PeriodicTable.element("C")?.covalentRadius == 0.76)
        #expect(PeriodicTable.element("Pt")?.covalentRadius == 1.36)
        #expect(PeriodicTable.element("Cm")?.covalentRadius == 1.69)
        #expect(PeriodicTable.element("Bk")?.covalentRadius == nil)
    }

    @Test func theSeedsDescriptorsComeOutOfTheTable() throws {
        // Seed A's [group, period, "radius"] values; the third is the Pauling electronegativity.
        let seed: [String: [Double]] = ["Co": [9, 4, 1.88], "Fe": [8, 4, 1.83], "Cu": [11, 4, 1.90], "Ni": [10, 4, 1.91], "Mo": [6, 5, 2.16]]
        let table = try ElementDescriptors.lookUp(ElementDescriptors.seedNames, for: Array(seed.keys))
        #expect(table.values == seed)
        #expect(throws: (any Error).self) { try ElementDescriptors.lookUp(["electronegativity"], for: ["Ne"]) }
        #expect(throws: (any Error).self) { try ElementDescriptors.lookUp(["colour"], for: ["Fe"]) }
    }
}
