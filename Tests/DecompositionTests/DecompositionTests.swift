import Basics
import Testing
import TestSupport
@testable import Decomposition
@testable import Images
@testable import Networks
@testable import Structures

/// A member with random weights (different seeds give different members).
func randomMember(_ kind: ModelKind, structures: [Structure], seed: UInt64) throws -> EnergyModel {
    var options = ModelOptions()
    options.patchSize = 9
    options.patchSpacing = 0.6
    options.atomicFilters = 3
    options.raster = RasterSettings(gridSize: 16, extent: 8, sigma: 0.5, centring: .origin, channels: .species(["Fe", "Co", "Ni"]))
    options.ryczkoBlocks = 1
    options.ryczkoDense = 8
    let (architecture, encoding) = try makeModel(kind, for: structures, options: options)
    let network = try Network(architecture)
    return try EnergyModel(description: ModelDescription(architecture: architecture, encoding: encoding,
                                                         normalisation: TargetNormalisation(mean: -2, scale: 0.3)),
                           parameters: network.initialParameters(seed: seed))
}

func templateStructures(_ count: Int) throws -> [Structure] {
    var generator = SeededGenerator(seed: 21)
    return try (0..<count).map { _ in
        try SiteTemplate.fcc111Top().structure(elements: (0..<10).map { _ in ["Fe", "Co", "Ni"][generator.nextIndex(below: 3)] },
                                               energy: generator.uniform(-2.5, -1.5), adsorbate: "CO")
    }
}

struct DecompositionTests {
    @Test func siteContributionsSumToThePrediction() throws {
        let structures = try templateStructures(6)
        let members = try (0..<3).map { try randomMember(.sites, structures: structures, seed: UInt64($0)) }
        let decomposition = try SiteDecomposer.sites(members, elements: ["Fe", "Co", "Ni"])
        #expect(decomposition.exactness == "exact" && decomposition.sites.count == 10)
        for (m, member) in members.enumerated() {
            let single = try SiteDecomposer.sites([member], elements: ["Fe", "Co", "Ni"])
            for structure in structures {
                let sum = zip(structure.siteLabels!, structure.symbols).filter { $0.1 != "X" }
                    .map { single.entry(site: $0.0, element: $0.1)!.contribution.mean }.reduce(0, +)
                #expect(abs(sum - (try member.predict(structure))) < 1e-5, "member \(m)")
            }
        }
        // The ensemble mean is the mean of the members' values.
        let perMember = try members.map { try SiteDecomposer.sites([$0], elements: ["Fe"]).entry(site: "Nsur3", element: "Fe")!.contribution.mean }
        let entry = decomposition.entry(site: "Nsur3", element: "Fe")!
        #expect(abs(entry.contribution.mean - perMember.reduce(0, +) / 3) < 1e-12)
        #expect(entry.contribution.members == 3 && entry.contribution.std > 0)
        // Influence and spread follow their definitions.
        let summary = decomposition.summaries.first { $0.site == "T/B1" }!
        let values = ["Fe", "Co", "Ni"].map { e in try! SiteDecomposer.sites([members[0]], elements: ["Fe", "Co", "Ni"]).entry(site: "T/B1", element: e)!.contribution.mean }
        let first = try SiteDecomposer.sites([members[0]], elements: ["Fe", "Co", "Ni"]).summaries[0]
        #expect(abs(first.elementSpread.mean - (values.max()! - values.min()!)) < 1e-12)
        #expect(abs(first.influence.mean - values.map(abs).reduce(0, +) / 3) < 1e-12)
        #expect(summary.influence.members == 3)
    }

    @Test func atomicContributionsAreExactAndGroupedBySite() throws {
        let structures = try templateStructures(5)
        let members = try (0..<2).map { try randomMember(.atomic, structures: structures, seed: UInt64($0 + 10)) }
        var contributions: [[[Double]]] = []
        for member in members {
            var perStructure: [[Double]] = []
            for structure in structures {
                let parts = member.contributions(try member.encoder.encode(structure))
                #expect(parts.count == 10)  // one per site; the adsorbate marker has none
                #expect(abs(parts.reduce(0, +) - (try member.predict(structure))) < 1e-9)
                perStructure.append(parts)
            }
            contributions.append(perStructure)
        }
        let decomposition = try SiteDecomposer.atomic(members, structures: structures, contributions: contributions)
        #expect(decomposition.sites.first == "T/B1" && !decomposition.sites.contains("adsorbate"))
        // Recompute one cell by hand: member 0, site Nsub2, element Fe.
        var values: [Double] = []
        for (i, s) in structures.enumerated() where s.symbols[8] == "Fe" { values.append(contributions[0][i][8]) }
        if !values.isEmpty {
            let single = try SiteDecomposer.atomic([members[0]], structures: structures, contributions: [contributions[0]])
            let entry = single.entry(site: "Nsub2", element: "Fe")!
            #expect(abs(entry.contribution.mean - values.reduce(0, +) / Double(values.count)) < 1e-12)
            #expect(entry.count == values.count)
        }
    }

    @Test func theImageModelsDecompositionSaysItIsApproximate() throws {
        let structures = try templateStructures(2)
        let members = try (0..<2).map { try randomMember(.ryczko, structures: structures, seed: UInt64($0 + 20)) }
        let decomposition = try SiteDecomposer.ryczko(members, reference: structures[0], elements: ["Fe", "Co", "Ni"])
        #expect(decomposition.exactness == "approximate" && decomposition.method.hasPrefix("APPROXIMATE"))
        #expect(decomposition.entries.count == 30)
        let alone = Structure(symbols: ["Co"], positions: [structures[0].positions[3]])
        let empty = Structure(symbols: [], positions: [])
        let expected = (try members[0].predict(alone) - members[0].predict(empty) + members[1].predict(alone) - members[1].predict(empty)) / 2
        #expect(abs(decomposition.entry(site: "Nsur3", element: "Co")!.contribution.mean - expected) < 1e-9)
    }

    @Test func spreadIsTheSampleStandardDeviation() {
        let s = Spread([1, 2, 3, 4])
        #expect(s.mean == 2.5 && abs(s.std - 1.2909944487358056) < 1e-12 && s.members == 4)
        #expect(Spread([5]).std == 0)
    }
}
