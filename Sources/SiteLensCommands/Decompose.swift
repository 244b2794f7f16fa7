import ArgumentParser
import Basics
import Decomposition
import Foundation
import MPI
import Networks
import Reports
import Structures
import Training

/// `sitelens decompose`: the site decomposition again, from a finished run's members.
struct Decompose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run the ensemble-averaged site decomposition from a run's saved members.",
        discussion: """
        The sites model needs no data. atomic and ryczko decompose the given structures, or the run's data file \
        when none is given. Data options left out (--site-rule, --energy-key, --target, --group, ...) take the run's.
        """)

    @Option(name: .customLong("run"), help: "Run folder of a finished `sitelens train`.")
    var runFolder: String

    @OptionGroup var data: DataOptions

    @Option(help: "Folder for the outputs (default: the run folder); its parent must exist.")
    var out: String?

    func run() throws {
        try withMPI { mpi in
            let members = try loadTrainedEnsemble(from: RunFolder(path: runFolder))
            let folder = RunFolder(path: out ?? runFolder)
            let kind = members[0].modelDescription.architecture.kind
            let (data, recorded) = try data.reusing(run: RunFolder(path: runFolder), needsInput: kind.decompositionMethod != .readOff)
            if data.input != nil {
                let source = try data.source(recorded: recorded)
                let structures = try openStructures(source, world: mpi.world).store
                let contributions = try evaluateShared(world: mpi.world, members: members, structures: structures)
                let swaps = try measureSwapsShared(members: members, structures: structures, sharing: WorkSharing(world: mpi.world))
                guard mpi.world.rank == 0, let contributions else { return }
                try folder.createForOutputs()
                let roles = try dataRoles(of: RunFolder(path: runFolder), dataFile: URL(fileURLWithPath: source.path), count: structures.count)
                let calibration = try RunRecord.read(from: RunFolder(path: runFolder)).calibration
                try writeRunOutputs(members: members, structures: structures, contributions: contributions, roles: roles,
                                    calibration: calibration, swaps: swaps, to: folder)
            } else {
                guard kind.decompositionMethod == .readOff else {
                    throw ValidationError("the \(kind.rawValue) model needs the structures to decompose (the input argument)")
                }
                guard mpi.world.rank == 0, let decomposition = try SiteDecomposer.decomposeWithoutStructures(members) else { return }
                try folder.createForOutputs()
                try RunReport.write(decomposition, to: folder)
                print("wrote \(RunReport.decompositionOutputs.map(\.rawValue).joined(separator: ", ")) to \(folder.path)")
            }
        }
    }
}

/// `sitelens predict`: each structure's ensemble mean and spread.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict energies with a finished run's ensemble: mean and spread per structure.",
        discussion: "Data options left out (--site-rule, --energy-key, --target, --group, ...) take the run's.")

    @Option(name: .customLong("run"), help: "Run folder of a finished `sitelens train`.")
    var runFolder: String

    @OptionGroup var data: DataOptions

    @Option(help: "Output CSV (its folder must exist).")
    var out = RunFolder.Output.predictionsCSV.rawValue

    @Option(name: .customLong("per-atom"), help: ArgumentHelp(
        "atomic models: also write the structures to this extxyz file, each atom's predicted energy (ensemble-mean contribution) in ASE's per-atom energies column, its spread in energies_std.",
        valueName: "file.xyz"))
    var perAtom: String?

    func validate() throws {
        guard data.input != nil else { throw ValidationError("give the structures to predict (the input argument)") }
        try requireExistingFolder(for: out, option: "--out")
        if let perAtom { try requireExistingFolder(for: perAtom, option: "--per-atom") }
    }

    func run() throws {
        try withMPI { mpi in
            let members = try loadTrainedEnsemble(from: RunFolder(path: runFolder))
            if perAtom != nil { try PerAtomEnergies.check(members, option: "--per-atom") }
            let source = try data.source(recorded: RecordedDataOptions(run: RunFolder(path: runFolder)))
            let structures = try openStructures(source, world: mpi.world).store
            let contributions = try evaluateShared(world: mpi.world, members: members, structures: structures)
            guard mpi.world.rank == 0, let contributions else { return }
            let roles = try dataRoles(of: RunFolder(path: runFolder), dataFile: URL(fileURLWithPath: source.path), count: structures.count)
            let calibration = try RunRecord.read(from: RunFolder(path: runFolder)).calibration
            let predictions = ensemblePredictions(structures: structures, contributions: contributions, roles: roles, calibration: calibration)
            try RunReport.writePredictions(predictions, to: URL(fileURLWithPath: out),
                                           memberNumbers: members.enumerated().map { $0.element.modelDescription.training?.member ?? $0.offset })
            print("wrote \(out): \(predictions.count) structures, ensemble of \(members.count)")
            print(calibration?.summary ?? "no 95 % interval: the run records no calibration")
            PredictionCheck(predictions, trained: members.compactMap { $0.modelDescription.training?.targets }).lines.forEach { print($0) }
            if let perAtom { try PerAtomEnergies.write(structures: structures, contributions: contributions, to: URL(fileURLWithPath: perAtom)) }
        }
    }
}
