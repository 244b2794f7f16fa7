import Basics
import Foundation
import Testing
@testable import Decomposition
import Networks
@testable import Reports
import Structures
import TestSupport

/// Each kind's decomposition goes through the method its recipe names, and `train` lists what
/// its run wrote from `RunFolder.Output`.
struct DecompositionMethodTests {
    @Test func eachKindIsDecomposedByItsMethod() throws {
        let structures = try templateStructures(4)
        for kind in ModelKind.allCases {
            let members = try (0..<2).map { try randomMember(kind, structures: structures, seed: UInt64($0 + 40)) }
            let contributions = try members.map { member in try structures.map { try member.contributions(try member.encoder.encode($0)) } }
            let decomposition = try SiteDecomposer.decompose(members, structures: LoadedStructures(structures), contributions: contributions)
            let direct: Decomposition = switch kind {
            case .sites: try SiteDecomposer.sites(members, elements: LoadedStructures(structures).elements)
            case .ryczko: try SiteDecomposer.ryczko(members, structures: structures)
            case .atomic: try SiteDecomposer.atomic(members, structures: structures, contributions: contributions)
            }
            #expect(decomposition.kind == kind && decomposition.exactness == direct.exactness && decomposition.method == direct.method)
            #expect(decomposition.entries == direct.entries, "\(kind)")
            #expect((decomposition.perAtom != nil) == (kind.decompositionMethod == .swapsAndAtomSplit))
            // Without structures only a read-off method decomposes, over the elements the members know.
            let alone = try SiteDecomposer.decomposeWithoutStructures(members)
            #expect((alone != nil) == (kind.decompositionMethod == .readOff), "\(kind)")
            if let alone { #expect(alone.elements == ["Fe", "Co", "Ni"] && alone.entries == direct.entries) }
        }
    }

    @Test func theFinishedRunListsItsOutputsFromTheRunFolder() {
        let folder = RunFolder(path: "/tmp/run")
        let plain = finishedRunContents(of: folder, withContributions: false)
        let atomic = finishedRunContents(of: folder, withContributions: true)
        #expect(plain.first == "model/" && !plain.contains(RunFolder.Output.record.rawValue))
        #expect(atomic == plain + [RunFolder.Output.contributionsXYZ.rawValue])
        #expect(Set(plain.dropFirst()) == Set(RunFolder.Output.allCases.map(\.rawValue)).subtracting(["run.json", "contributions.xyz"]))
    }

    /// The exactness column and key say what they said when exactness was a string.
    @Test func exactnessIsWrittenInTheTablesAsItsWords() throws {
        let structures = try templateStructures(3)
        let members = [try randomMember(.sites, structures: structures, seed: 3)]
        let cases: [(Decomposition, String)] = [(try SiteDecomposer.sites(members, elements: ["Fe", "Co", "Ni"]), "exact"),
                                                (try SiteDecomposer.swaps(members, structures: structures), "partial dependence")]
        for (decomposition, words) in cases {
            let folder = RunFolder(try temporaryFolder("sitelens-exactness"))
            try RunReport.write(decomposition, to: folder)
            for table in [RunFolder.Output.decompositionCSV, .siteInfluenceCSV] {
                let rows = try String(contentsOf: folder.file(table), encoding: .utf8).split(separator: "\n").dropFirst()
                #expect(!rows.isEmpty && rows.allSatisfy { $0.hasSuffix(",\(words)") }, "\(table)")
            }
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file(.decompositionJSON))) as? [String: Any]
            #expect(json?["exactness"] as? String == words)
        }
    }
}
