import ArgumentParser
import Decomposition
import Foundation
import MPI
import Networks
import Reports
import Structures
import Training

/// The members saved in a run folder's `model/`, in member order.
func loadMembers(runDirectory: String) throws -> [EnergyModel] {
    let folder = URL(fileURLWithPath: runDirectory).appendingPathComponent("model")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    let members = names.filter { $0.hasPrefix("member-") && $0.hasSuffix(".safetensors") }
        .compactMap { Int($0.dropFirst("member-".count).dropLast(".safetensors".count)) }.sorted()
    guard !members.isEmpty else {
        throw ValidationError("no model/member-K.safetensors in \(runDirectory)")
    }
    let models = try members.map { try EnergyModel.load(from: folder, name: "member-\($0)") }
    guard models.allSatisfy({ $0.description.architecture == models[0].description.architecture }) else {
        throw ValidationError("the members in \(folder.path) have different architectures")
    }
    return models
}

/// `sitelens decompose`: the site decomposition again, from saved members.
struct Decompose: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-run the ensemble-averaged site decomposition from a run's saved members.",
        discussion: "The sites model needs no data. atomic and ryczko need --data (the structures to decompose).")

    @Option(help: "Run folder holding model/member-K.*.")
    var model: String

    @Option(help: "Structures (extxyz or site table); needed for atomic and ryczko.")
    var data: String?

    @Option(help: "Keep only site-table rows with COLUMN=VALUE.")
    var group: String?

    @Option(help: "Folder for the outputs (default: the run folder).")
    var out: String?

    func run() throws {
        try withMPI { mpi in
            let members = try loadMembers(runDirectory: model)
            let folder = URL(fileURLWithPath: out ?? model)
            let kind = members[0].description.architecture.kind
            if let data {
                let structures = try loadStructures(data, group: group)
                let contributions = try evaluateShared(world: mpi.world, members: members, structures: structures)
                guard mpi.world.rank == 0, let contributions else { return }
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try writeRunOutputs(members: members, structures: structures, contributions: contributions, to: folder)
            } else {
                guard kind == .sites else { throw ValidationError("the \(kind.rawValue) model needs --data to decompose") }
                guard mpi.world.rank == 0 else { return }
                guard case .sites(_, let descriptors, _, _) = members[0].description.encoding else { return }
                let elements = PeriodicTable.inTableOrder(descriptors.values.keys)
                let decomposition = try SiteDecomposer.sites(members, elements: elements)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try RunReport.write(decomposition, to: folder)
                print("wrote decomposition.csv, decomposition.json, site-influence.csv/.svg, element-site.svg to \(folder.path)")
            }
        }
    }
}

/// `sitelens predict`: each structure's ensemble mean and spread.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Predict energies with a saved ensemble: mean and spread per structure.")

    @Option(help: "Run folder holding model/member-K.*.")
    var model: String

    @Option(help: "Structures to predict (extxyz or site table).")
    var data: String

    @Option(help: "Keep only site-table rows with COLUMN=VALUE.")
    var group: String?

    @Option(help: "Output CSV.")
    var out = "predictions.csv"

    func run() throws {
        try withMPI { mpi in
            let members = try loadMembers(runDirectory: model)
            let structures = try loadStructures(data, group: group)
            let contributions = try evaluateShared(world: mpi.world, members: members, structures: structures)
            guard mpi.world.rank == 0, let contributions else { return }
            let predictions = structures.indices.map { i in
                EnsemblePrediction(index: i, target: structures[i].energy, members: members.indices.map { contributions[$0][i].reduce(0, +) })
            }
            try RunReport.writePredictions(predictions, to: URL(fileURLWithPath: out))
            print("wrote \(out): \(predictions.count) structures, ensemble of \(members.count)")
        }
    }
}

/// Structures from a file with the default reading options (site tables through the fcc(111) template).
func loadStructures(_ path: String, group: String?) throws -> [Structure] {
    var options = SiteTable.Options()
    if let group { try options.select(group: group) }
    return try StructureSource(path: path, siteOptions: options).load().structures
}
