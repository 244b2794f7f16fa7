import Basics
import Foundation
import Testing
import TestSupport
@testable import Decomposition
@testable import Images
@testable import Networks
import Reports
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
    return try EnergyModel(modelDescription: ModelDescription(architecture: architecture, encoding: encoding,
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
        #expect(decomposition.exactness == .exact && decomposition.sites.count == 10)
        for (m, member) in members.enumerated() {
            let single = try SiteDecomposer.sites([member], elements: ["Fe", "Co", "Ni"])
            for structure in structures {
                let sum = zip(structure.siteLabels!, structure.symbols).filter { $0.1 != "X" }
                    .map { single.entry(site: $0.0, element: $0.1)!.contribution.mean }.reduce(0, +)
                #expect(abs(sum + single.offset!.mean - (try member.predict(structure))) < 1e-5, "member \(m)")
            }
        }
        // The ensemble mean is the mean of the members' values.
        let perMember = try members.map { try SiteDecomposer.sites([$0], elements: ["Fe", "Co", "Ni"]).entry(site: "Nsur3", element: "Fe")!.contribution.mean }
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

    /// Issue 20: the `sites` table holds only identified quantities: each member's c(s, e)
    /// centred per site (its spread over members no longer measures a drifting constant), the
    /// constant reported apart; decomposition.csv has no column left empty.
    @Test func siteTableIsCentredPerSiteWithNoEmptyColumn() throws {
        let structures = try templateStructures(6)
        let elements = ["Fe", "Co", "Ni"]
        let members = try (0..<2).map { try randomMember(.sites, structures: structures, seed: UInt64($0 + 7)) }
        let decomposition = try SiteDecomposer.sites(members, elements: elements)
        for site in decomposition.sites {
            for m in members.indices {
                let single = try SiteDecomposer.sites([members[m]], elements: elements)
                let values = elements.map { single.entry(site: site, element: $0)!.contribution.mean }
                #expect(abs(values.reduce(0, +)) < 1e-9, "member \(m), \(site): centred per site")
            }
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-decomposition-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for table in [decomposition, try SiteDecomposer.swaps(members, structures: structures)] {
            try RunReport.write(table, to: RunFolder(path: folder.path))
            let lines = try String(contentsOf: folder.appendingPathComponent("decomposition.csv"), encoding: .utf8).split(separator: "\n")
            let header = lines[0].split(separator: ",", omittingEmptySubsequences: false)
            let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            #expect(!rows.isEmpty && rows.allSatisfy { $0.count == header.count })
            for (c, name) in header.enumerated() {
                #expect(rows.contains { !$0[c].isEmpty }, "\(table.method): column \(name) is empty in every row")
            }
        }
    }

    /// For the additive `sites` model the swap decomposition is exactly the network's own table,
    /// centred per site, and no swap depends on the rest of the structure.
    @Test func swapsEqualTheExactCentredSiteTable() throws {
        let structures = try templateStructures(40)
        let elements = ["Fe", "Co", "Ni"]
        let members = try (0..<2).map { try randomMember(.sites, structures: structures, seed: UInt64($0 + 30)) }
        let exact = try SiteDecomposer.sites(members, elements: elements)
        let swaps = try SiteDecomposer.swaps(members, structures: structures)
        #expect(swaps.exactness == .partialDependence && swaps.sites.count == 10)
        for site in exact.sites {
            let shown = swaps.entries.filter { $0.site == site }.map(\.element)
            #expect(Set(shown) == Set(elements), "every element appears at \(site) in 40 random rows")
            for m in members.indices {
                let single = try SiteDecomposer.sites([members[m]], elements: elements)
                let swapped = try SiteDecomposer.swaps([members[m]], structures: structures)
                let centre = elements.map { single.entry(site: site, element: $0)!.contribution.mean }.reduce(0, +) / 3
                for element in elements {
                    let expected = single.entry(site: site, element: element)!.contribution.mean - centre
                    let entry = swapped.entry(site: site, element: element)!
                    #expect(abs(entry.contribution.mean - expected) < 1e-5, "member \(m), \(site), \(element)")
                    #expect(entry.structureStd! < 1e-5 && entry.count == 40)
                }
            }
        }
        // The ensemble summary is the mean over members, with a spread.
        let cell = swaps.entry(site: "Nsub1", element: "Ni")!
        #expect(cell.contribution.members == 2 && cell.contribution.std > 0)
    }

    /// Image models by swaps: one row per (site, element) even when several atoms share a label,
    /// and each value is the mean prediction change recomputed here by hand.
    @Test func imageModelSwapsAreMeanPredictionChangesWithOneRowPerSiteAndElement() throws {
        let shared = ["T/B1", "ring", "ring", "ring", "ring", "ring", "ring", "below", "below", "below", "adsorbate"]
        let structures = try templateStructures(3).map { s -> Structure in var t = s; t.siteLabels = shared; return t }
        let members = try (0..<2).map { try randomMember(.ryczko, structures: structures, seed: UInt64($0 + 20)) }
        let decomposition = try SiteDecomposer.ryczko(members, structures: structures)
        let keys = decomposition.entries.map { "\($0.site)|\($0.element)" }
        #expect(Set(keys).count == keys.count && !decomposition.sites.contains("adsorbate"))
        #expect(decomposition.entry(site: "ring", element: "Co")?.count == 18)
        // By hand: member 1, label "below", element e, averaged over 3 structures × 3 atoms, centred.
        let elements = SwapEffects.siteElements(structures).elements["below"]!
        var effects = [Double](repeating: 0, count: elements.count)
        for structure in structures {
            let base = try members[1].predict(structure)
            for atom in 7...9 {
                for (k, element) in elements.enumerated() {
                    var swapped = structure
                    swapped.symbols[atom] = element
                    effects[k] += (try members[1].predict(swapped) - base) / 9
                }
            }
        }
        let centre = effects.reduce(0, +) / Double(effects.count)
        let single = try SiteDecomposer.ryczko([members[1]], structures: structures)
        for (k, element) in elements.enumerated() {
            #expect(abs(single.entry(site: "below", element: element)!.contribution.mean - (effects[k] - centre)) < 1e-6)
        }
        // A CNN is not additive: the per-swap effects vary between structures.
        #expect(single.entries.contains { ($0.structureStd ?? 0) > 1e-6 })
    }

    /// `atomic`: swap rows, plus the exact per-atom split relative to fitted element references.
    @Test func atomicKeepsItsExactPerAtomSplitRelativeToReferenceEnergies() throws {
        let structures = try templateStructures(8)
        let members = try (0..<2).map { try randomMember(.atomic, structures: structures, seed: UInt64($0 + 10)) }
        var contributions: [[[Double]]] = []
        for member in members {
            contributions.append(try structures.map { structure in
                let parts = try member.contributions(try member.encoder.encode(structure))
                #expect(parts.count == 10)  // one per site; the adsorbate marker has none
                #expect(abs(parts.reduce(0, +) - (try member.predict(structure))) < 1e-9)
                return parts
            })
        }
        let decomposition = try SiteDecomposer.atomic(members, structures: structures, contributions: contributions)
        #expect(decomposition.exactness == .partialDependence && decomposition.sites.first == "T/B1")
        let split = try #require(decomposition.perAtom)
        #expect(split.references.fittedTo == "targets")
        // Recompute one cell by hand: member 0, site Nsub2 (atom 8), element Fe.
        let mu = split.references.values["Fe"]!
        var values: [Double] = []
        for (i, s) in structures.enumerated() where s.symbols[8] == "Fe" { values.append(contributions[0][i][8] - mu) }
        if !values.isEmpty {
            let single = try SiteDecomposer.atomic([members[0]], structures: structures, contributions: [contributions[0]])
            let entry = single.perAtom!.entries.first { $0.site == "Nsub2" && $0.element == "Fe" }!
            #expect(abs(entry.contribution.mean - values.reduce(0, +) / Double(values.count)) < 1e-9)
            #expect(entry.count == values.count)
        }
    }

    /// contributions.xyz: per atom the ensemble-mean ε (summing to the ensemble prediction) and
    /// ε − μ_e with the μ_e the decomposition fitted, as ASE reads them back.
    @Test func contributionsFileHoldsRawAndReferenceRelativeEpsilon() throws {
        let structures = try templateStructures(6)
        let members = try (0..<2).map { try randomMember(.atomic, structures: structures, seed: UInt64($0 + 20)) }
        let contributions = try members.map { member in try structures.map { try member.contributions(try member.encoder.encode($0)) } }
        let decomposition = try SiteDecomposer.atomic(members, structures: structures, contributions: contributions)
        let references = try #require(decomposition.perAtom?.references)
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("contributions.xyz")
        try writeContributionsXYZ(structures: structures, contributions: contributions, references: references, to: file)
        let frames = try ExtXYZ.read(path: file.path)
        #expect(frames.count == structures.count)
        for (i, frame) in frames.enumerated() {
            guard case .real(let raw) = frame.perAtomColumns["contribution"],
                  case .real(let relative) = frame.perAtomColumns["contribution_relative"] else {
                Issue.record("frame \(i): contribution columns missing"); continue
            }
            let ensemble = (try members.map { try $0.predict(structures[i]) }).reduce(0, +) / Double(members.count)
            #expect(abs(raw.map { $0[0] }.reduce(0, +) - ensemble) < 1e-6)
            for (atom, symbol) in frame.symbols.enumerated() where !Structure.isDummy(symbol) {
                let mu = try #require(references.values[symbol])
                #expect(abs(relative[atom][0] - (raw[atom][0] - mu)) < 1e-9)
                #expect(frame.info["reference_energy_\(symbol)"].flatMap(Double.init) == mu)
            }
        }
    }

    @Test func referenceEnergiesRecoverAnExactCompositionFit() throws {
        var generator = SeededGenerator(seed: 4)
        let mu = ["O": -4.0, "Cu": -3.5, "Pt": -5.25]
        let structures = (0..<12).map { _ -> Structure in
            let metals = (0..<(3 + generator.nextIndex(below: 4))).map { _ in generator.nextIndex(below: 2) == 0 ? "Cu" : "Pt" }
            let symbols = metals + Array(repeating: "O", count: generator.nextIndex(below: 3))
            return Structure(symbols: symbols, positions: symbols.map { _ in SIMD3(0, 0, 0) })
        }
        let energies = structures.map { $0.symbols.reduce(0) { $0 + mu[$1]! } }
        let fit = try ReferenceEnergies(structures: structures, energies: energies, fittedTo: "targets")
        for (element, value) in mu { #expect(abs(fit.values[element]! - value) < 1e-6, "\(element)") }
        #expect(abs(fit.energy(of: structures[3]) - energies[3]) < 1e-6)
    }

    @Test func structuresWithoutSitesAreSaidToHaveNone() throws {
        let structures = try templateStructures(3).map { s -> Structure in var t = s; t.siteLabels = nil; return t }
        let members = [try randomMember(.ryczko, structures: structures, seed: 1)]
        let decomposition = try SiteDecomposer.ryczko(members, structures: structures)
        #expect(decomposition.entries.isEmpty)
        #expect(decomposition.notes.contains { $0.contains("3 of 3 structures have no site labels") && $0.contains("structures 1, 2, 3") })
    }

    @Test func spreadIsTheSampleStandardDeviation() {
        let s = Spread([1, 2, 3, 4])
        #expect(s.mean == 2.5 && abs(s.std - 1.2909944487358056) < 1e-12 && s.members == 4)
        #expect(Spread([5]).std == 0)
    }
}
