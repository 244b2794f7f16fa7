import Basics
import Decomposition
import Foundation
import Networks
import Structures
import Training

/// Each structure's ensemble prediction: member m's prediction is the sum of its item
/// contributions `contributions[m][i]`.
public func ensemblePredictions(structures: StructureStore, contributions: [[[Double]]], roles: DataRoles,
                                calibration: IntervalCalibration? = nil) -> [EnsemblePrediction] {
    (0..<structures.count).map { i in
        EnsemblePrediction(index: i, target: structures.energy(i), members: contributions.map { $0[i].reduce(0, +) }, split: roles.labels[i],
                           calibration: calibration)
    }
}

/// The decomposition, parity plot and predictions of an ensemble, as `train` and `decompose`
/// both write them, with the test-set errors (printed, and in test-metrics.json when there is
/// a test set). `contributions[m][i]`: member m's item contributions for structure i. A
/// decomposition with a per-atom split also writes each atom's contribution (contributions.xyz).
/// `members` are the ensemble's kept members (a run's excluded ones left out) and
/// `calibration` makes the 95 % interval of predictions.csv. Returns the decomposition and the
/// test-set errors (nil without a test set). `swaps`: the swaps measured over the ranks
/// (`measureSwapsShared`), for `members`; without them they are measured here.
@discardableResult
public func writeRunOutputs(members: [EnergyModel], structures: StructureStore, contributions: [[[Double]]], roles: DataRoles,
                            calibration: IntervalCalibration?, swaps: SwapMeasurements? = nil,
                            to folder: RunFolder) throws -> (decomposition: Decomposition, test: TestMetrics?) {
    let kind = members[0].modelDescription.architecture.kind
    let predictions = ensemblePredictions(structures: structures, contributions: contributions, roles: roles, calibration: calibration)
    let test = TestMetrics(predictions, roles: roles, calibration: calibration)
    if let test {
        try writeJSON(test, to: folder.file(.testMetrics))
        print(test.summary)
    }
    let numbers = SiteDecomposer.memberNumbers(members)
    try RunReport.writeParity(predictions, to: folder, title: "Parity, \(kind.rawValue) model, ensemble of \(members.count)",
                              test: test, memberNumbers: numbers)
    let decomposition = try SiteDecomposer.decompose(members, structures: structures, contributions: contributions, measured: swaps) { total in
        ProgressMeter(title: "decomposing: swaps", total: total, unit: "structures × members")
    }
    if let perAtom = decomposition.perAtom {
        // Per-atom contributions are tabulated and written for every structure, read one at a time.
        try writeContributionsXYZ(structures: structures, contributions: contributions, references: perAtom.references,
                                  to: folder.file(.contributionsXYZ))
    }
    try RunReport.write(decomposition, to: folder)
    for note in decomposition.notes { print("note: \(note)") }
    print("decomposition (\(decomposition.exactness.rawValue)) over \(members.count) member\(members.count == 1 ? "" : "s"):")
    for summary in decomposition.summaries {
        print("  \(summary.site.padding(toLength: 10, withPad: " ", startingAt: 0)) element spread \(String(format: "%.4f", summary.elementSpread.mean)) ± \(String(format: "%.4f", summary.elementSpread.std)) eV"
              + "   influence \(String(format: "%.4f", summary.influence.mean)) ± \(String(format: "%.4f", summary.influence.std)) eV"
              + (summary.rankAgreement.map { "   element order τ \(String(format: "%.2f", $0))" } ?? ""))
    }
    return (decomposition, test)
}

/// Every structure with each atom's ensemble-mean contribution and its spread as per-atom
/// columns (`contribution`, `contribution_std`; the dummy marker gets 0), readable by ASE. With
/// per-element reference energies μ_e, also `contribution_relative` = ε − μ_e (the raw ε is
/// mostly the constant share mean/N of the energy; Method.md) and the μ_e in the frame's info.
/// With `asPrediction` (`predict --per-atom`) the columns are ASE's per-atom `energies` (and
/// `energies_std`), and each frame's `energy` is the ensemble mean (its spread `energy_std`, the
/// structure's own target `target_energy`), so ASE reads the frame as one prediction.
public func writeContributionsXYZ(structures: StructureStore, contributions: [[[Double]]], references: ReferenceEnergies?,
                                  to url: URL, asPrediction: Bool = false) throws {
    let column = asPrediction ? "energies" : "contribution"
    try writeAtomically(to: url) { append in
        for i in 0..<structures.count {
            let structure = try structures.structure(i)
            var annotated = structure
            var means: [[Double]] = [], stds: [[Double]] = [], relative: [[Double]] = []
            var item = 0
            for symbol in structure.symbols {
                guard !Structure.isDummy(symbol) else { means.append([0]); stds.append([0]); relative.append([0]); continue }
                let spread = Spread(contributions.map { $0[i][item] })
                means.append([spread.mean]); stds.append([spread.std])
                relative.append([spread.mean - (references?.values[symbol] ?? 0)])
                item += 1
            }
            if asPrediction {
                let prediction = Spread(contributions.map { $0[i].reduce(0, +) })
                if let target = structure.energy { annotated.info["target_energy"] = String(target) }
                annotated.energy = prediction.mean
                annotated.info["energy_std"] = String(prediction.std)
            }
            annotated.setColumn(column, .real(means))
            annotated.setColumn(column + "_std", .real(stds))
            if let references {
                annotated.setColumn(column + "_relative", .real(relative))
                for element in references.values.keys.sorted() {
                    annotated.info["reference_energy_\(element)"] = String(references.values[element] ?? 0)
                }
            }
            try append(Data(ExtXYZ.format([annotated]).utf8))
        }
    }
}

/// `writeContributionsXYZ` for structures held in memory.
public func writeContributionsXYZ(structures: [Structure], contributions: [[[Double]]], references: ReferenceEnergies?,
                                  to url: URL) throws {
    try writeContributionsXYZ(structures: LoadedStructures(structures), contributions: contributions, references: references, to: url)
}

/// `predict --per-atom`: each structure with its atoms' predicted energies, the ensemble-mean
/// contributions (ASE's per-atom `energies`, summing to the frame's `energy`, the ensemble
/// mean) and their spread (`energies_std`). Only models that split their prediction over atoms
/// have them. (A per-atom column named `energy` would be read by ASE as the frame's energy.)
public enum PerAtomEnergies {
    /// Refuses a model without per-atom contributions, naming the option.
    public static func check(_ members: [EnergyModel], option: String) throws {
        let kind = members[0].modelDescription.architecture.kind
        guard kind.decompositionMethod == .swapsAndAtomSplit else {
            throw NetworkError("\(option) needs a model whose prediction is a sum over atoms (atomic); this run's model is \(kind.rawValue)")
        }
    }

    public static func write(structures: StructureStore, contributions: [[[Double]]], to url: URL) throws {
        try writeContributionsXYZ(structures: structures, contributions: contributions, references: nil, to: url, asPrediction: true)
    }
}
