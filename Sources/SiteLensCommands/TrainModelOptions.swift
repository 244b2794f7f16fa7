import ArgumentParser
import Basics
import Foundation
import Images
import Networks
import Structures
import Training

// Each model kind's `train` options, a group per kind that fills its part of `ModelOptions`
// (see TrainOptions.swift). A new kind with options of its own adds its group here.

private let modelDefaults = ModelOptions()

/// The `sites` model's options.
struct SitesModelOptions: ParsableArguments {
    @Option(help: "sites: hidden width.")
    var hidden = modelDefaults.hidden

    @Option(help: "sites: element descriptors, comma-separated (\(ElementDescriptors.available.joined(separator: ", "))).")
    var descriptorNames = ElementDescriptors.seedNames.joined(separator: ",")

    @Option(help: "sites: a CSV of descriptor values ('symbol,NAME,...') that replaces the looked-up ones.")
    var descriptorFile: String?

    /// What run.json records of these options, for the kind they belong to.
    var recorded: (kind: ModelKind, options: [String: String]) {
        (.sites, ["--hidden": "\(hidden)", "--descriptor-names": descriptorFile == nil ? descriptorNames : "(from --descriptor-file)"])
    }

    /// The files besides the data that a run with these options reads.
    var inputs: [URL] { descriptorFile.map { [URL(fileURLWithPath: $0)] } ?? [] }

    /// Descriptors are looked up (or read) only for the `sites` model, the one that uses them.
    func apply(to options: inout ModelOptions, kind: ModelKind, elements: [String]) throws {
        options.hidden = hidden
        guard kind == .sites else { return }
        if let descriptorFile {
            options.descriptors = try ElementDescriptors.read(path: descriptorFile)
        } else {
            // The table's errors name the descriptor or element; the user's handle is the option.
            do {
                options.descriptors = try ElementDescriptors.lookUp(descriptorNames.split(separator: ",").map(String.init), for: elements)
            } catch let error as InputError {
                throw ValidationError("--descriptor-names '\(descriptorNames)': '\(error.field ?? "")': \(error.problem)")
            }
        }
    }
}

/// The `atomic` model's options: its patch and network (shared with `bench accuracy`) and the
/// range atoms interact over.
struct AtomicModelOptions: ParsableArguments {
    @OptionGroup var network: AtomicOptions

    @Option(help: "atomic: Å over which atoms interact, for the patch-reach warning (default: 2 × the median nearest-neighbour distance).")
    var interactionRange: Double?

    func check() throws {
        if let interactionRange, !(interactionRange > 0 && interactionRange <= RasterBudget.length) {
            throw ValidationError("--interaction-range must be in (0, \(RasterBudget.length)] Å, got \(interactionRange)")
        }
    }

    func apply(to options: inout ModelOptions) { network.apply(to: &options) }

    /// What run.json records of these options, for the kind they belong to.
    /// (The patch grid as resolved: the shape's default where no option was given.)
    var recorded: (kind: ModelKind, options: [String: String]) {
        var resolved = ModelOptions()
        network.apply(to: &resolved)
        return (.atomic, ["--patch-shape": network.patchShape.rawValue, "--patch-size": "\(resolved.patchSize)",
                          "--patch-spacing": "\(resolved.patchSpacing)", "--patch-sigma": "\(resolved.patchSigma)", "--filters": "\(network.filters)",
                          "--atomic-hidden": "\(network.atomicHidden)", "--radial-hidden": "\(network.radialHidden)"])
    }

    /// The range atoms interact over: --interaction-range, or estimated from the data.
    func interactionRange(of leading: LeadingStructures) throws -> (range: Double, how: String)? {
        if let interactionRange { return (interactionRange, "--interaction-range") }
        guard let range = try InteractionRange.estimate(leading) else { return nil }
        return (range, String(format: "%.3g × the median nearest-neighbour distance; --interaction-range sets it", InteractionRange.nearestNeighbourFactor))
    }
}

/// The `ryczko` model's options.
struct RyczkoModelOptions: ParsableArguments {
    @Option(help: "ryczko: number of [Conv16, Conv16, Conv64/2] blocks (seed: 6).")
    var blocks = modelDefaults.ryczkoBlocks

    @Option(help: "ryczko: width of the dense layer (seed: 1024).")
    var dense = modelDefaults.ryczkoDense

    func apply(to options: inout ModelOptions) {
        (options.ryczkoBlocks, options.ryczkoDense) = (blocks, dense)
    }

    /// What run.json records of these options, for the kind they belong to.
    var recorded: (kind: ModelKind, options: [String: String]) { (.ryczko, ["--blocks": "\(blocks)", "--dense": "\(dense)"]) }
}

/// How model weights start; `train`'s.
struct InitOptions: ParsableArguments {
    private static let help = "Weights: he (He-uniform for ReLU layers, Glorot elsewhere), glorot (Keras's default everywhere) "
        + "or lsuv (He, then each layer scaled to unit variance on a batch of the member's training data) "
        + "(default: \(perModelDefault(WeightInitialisation.he) { $0.initialisation }))."

    @Option(name: .customLong("init"), help: ArgumentHelp(help))
    var initialisation: WeightInitialisation?

    /// --init, else the model's default (`ModelDefaults.initialisation`), else He.
    func resolved(_ defaults: ModelDefaults) -> WeightInitialisation { initialisation ?? defaults.initialisation ?? .he }
}
