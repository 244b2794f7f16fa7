import ArgumentParser
import Basics
import Decomposition
import Foundation
import Images
import MPI
import Networks
import Reports
import Structures
import Training

extension ModelKind: ExpressibleByArgument {}
extension OptimizerKind: ExpressibleByArgument {}
extension ImageCache: ExpressibleByArgument {}

/// A size in bytes written as a number with an optional K, M, G or T suffix (powers of 1024).
struct ByteCount: ExpressibleByArgument {
    let bytes: Int

    init?(argument: String) {
        let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var text = argument.uppercased()
        var scale = 1
        if let last = text.last, let unit = units[last] { scale = unit; text.removeLast() }
        guard let value = Double(text), value.isFinite, value > 0, value * Double(scale) < Double(Int.max / 2) else { return nil }
        bytes = Int(value * Double(scale))
    }
}
extension ConvolutionBackend: ExpressibleByArgument {}
extension GradientReduction: ExpressibleByArgument {}

/// `sitelens train`: data-parallel training of an ensemble, then the site decomposition.
struct Train: ParsableCommand {
    /// Defaults come from the types that use them: one owner each.
    private static let planDefaults = TrainingPlan(), modelDefaults = ModelOptions()

    static let configuration = CommandConfiguration(
        abstract: "Train an ensemble under mpirun (or in one process) and decompose it site by site.",
        discussion: """
        Each rank rasterises and holds only its shard; gradients are all-reduced every step. With \
        --ensemble K the ranks split into min(K, ranks) groups that train the members. Rank 0 writes \
        the members, metrics.jsonl, the decomposition tables and the plots into --run-dir.
        """)

    @OptionGroup var data: DataOptions

    @Option(help: "Model: sites (seed A's site network), ryczko (seed B's image CNN), atomic (per-atom patches, exact contributions).")
    var model: ModelKind = Train.planDefaults.kind

    @Option(help: "Epochs.")
    var epochs = Train.planDefaults.epochs

    @Option(help: "Global batch size (samples per optimiser step, over all ranks of a group).")
    var batchSize = Train.planDefaults.batchSize

    @Option(help: "Learning rate.")
    var learningRate = Train.planDefaults.learningRate

    @Option(help: "Optimiser: adam (Keras defaults) or sgd.")
    var optimizer: OptimizerKind = Train.planDefaults.optimizer

    @Option(help: "Seed of every random choice (weights, split, order); members derive theirs from it.")
    var seed = Train.planDefaults.seed

    @Option(help: "Share of the structures each member holds out for validation.")
    var validationFraction = Train.planDefaults.validationFraction

    @Option(help: "Share of the structures held out from every member: the ensemble's test set.")
    var testFraction = Train.planDefaults.testFraction

    @Option(help: "Ensemble members.")
    var ensemble = Train.planDefaults.ensemble

    @Option(help: "Folder for models, metrics, tables and plots; must be new or empty (default: the --resume folder, else sitelens-run).")
    var runDir: String?

    @Flag(help: "Replace the SiteLens run in --run-dir once the new run has finished (a failed run leaves the old one whole); refuses a folder holding anything else.")
    var overwrite = false

    @Option(help: "Write a checkpoint every N epochs (0: never).")
    var checkpointEvery = Train.planDefaults.checkpointEvery

    @Option(help: "Compare parameter checksums across ranks every N steps.")
    var checksumEvery = Train.planDefaults.checksumEvery

    @Option(help: "Print a progress line every N epochs.")
    var printEvery = Train.planDefaults.printEvery

    @Option(help: "Continue the run in this folder from its checkpoints; data, seed, model, optimiser and ensemble must match.")
    var resume: String?

    @Option(help: .hidden)
    var haltAfterEpoch: Int?

    @Option(help: "sites: hidden width.")
    var hidden = Train.modelDefaults.hidden

    @Option(help: "sites: element descriptors, comma-separated (\(ElementDescriptors.available.joined(separator: ", "))).")
    var descriptorNames = ElementDescriptors.seedNames.joined(separator: ",")

    @Option(help: "sites: a CSV of descriptor values ('symbol,NAME,...') that replaces the looked-up ones.")
    var descriptorFile: String?

    @Option(help: "atomic: square (2-D image patches, a small CNN) or radial (Gaussians on a grid of distances, rotation-invariant; --patch-size bins --patch-spacing Δr apart).")
    var patchShape = Train.modelDefaults.patchShape

    @Option(help: "atomic: patch size in pixels.")
    var patchSize = Train.modelDefaults.patchSize

    @Option(help: "atomic: patch pixel spacing, Å.")
    var patchSpacing = Train.modelDefaults.patchSpacing

    @Option(help: "atomic: Gaussian width in patches, Å.")
    var patchSigma = Train.modelDefaults.patchSigma

    @Option(help: "atomic: filters of the shared CNN.")
    var filters = Train.modelDefaults.atomicFilters

    @Option(help: "atomic: hidden width of the shared CNN's dense layer (square patches).")
    var atomicHidden = Train.modelDefaults.atomicHidden

    @Option(help: "atomic: hidden width of the radial patches' network (0: linear, Flatten → Dense(1)).")
    var radialHidden = Train.modelDefaults.radialHidden

    @Option(help: "atomic: Å over which atoms interact, for the patch-reach warning (default: 2 × the median nearest-neighbour distance).")
    var interactionRange: Double?

    @Option(help: "ryczko: number of [Conv16, Conv16, Conv64/2] blocks (seed: 6).")
    var blocks = Train.modelDefaults.ryczkoBlocks

    @Option(help: "ryczko: width of the dense layer (seed: 1024).")
    var dense = Train.modelDefaults.ryczkoDense

    @OptionGroup(title: "Images (ryczko; --depth also for atomic patches)") var raster: RasterOptions

    @Option(help: "Keep each rank's rasterised shard in memory (always), rasterise each step's samples on the fly (never), or decide by --memory-budget (auto).")
    var imageCache: ImageCache = Train.planDefaults.imageCache

    @Option(help: "Memory a rank may spend on cached samples, e.g. 2G or 500M (default: half the node's memory over the ranks on it).")
    var memoryBudget: ByteCount?

    @OptionGroup var initOptions: InitOptions

    @Option(help: "BLAS and oneDNN threads per rank (default: 1 under mpirun with several ranks, else all cores).")
    var blasThreads: Int?

    @Option(help: "Convolutions by dnnl (oneDNN) or im2col (OpenBLAS GEMMs, the reference).")
    var convBackend: ConvolutionBackend = Train.planDefaults.convolutionBackend

    @Flag(help: "One sample at a time with Double gradient sums: bit-identical for any rank count, slower.")
    var reproducible = false

    /// Hidden: `bench scaling` compares the modes; `auto` (the default) picks one per group.
    @Option(help: .hidden)
    var allReduce = Train.planDefaults.gradientReduction

    func validate() throws {
        guard data.input != nil else { throw ValidationError("give the input file to train on") }
        guard !(overwrite && resume != nil) else { throw ValidationError("--overwrite and --resume exclude each other") }
        guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard ensemble >= 1 else { throw ValidationError("--ensemble must be at least 1") }
        guard validationFraction >= 0 && validationFraction < 1 else { throw ValidationError("--validation-fraction must be in [0, 1)") }
        guard testFraction >= 0 && testFraction < 1 else { throw ValidationError("--test-fraction must be in [0, 1)") }
        guard learningRate > 0 else { throw ValidationError("--learning-rate must be positive") }
        if let interactionRange, !(interactionRange.isFinite && interactionRange > 0) {
            throw ValidationError("--interaction-range must be a positive number of Å, got \(interactionRange)")
        }
        if let blasThreads, !(1...1024).contains(blasThreads) { throw ValidationError("--blas-threads must be in 1...1024, got \(blasThreads)") }
    }

    /// The plan for these structures, and notes for the start of the run (what `auto` chose).
    func plan(for structures: StructureStore) throws -> (TrainingPlan, notes: [String]) {
        var plan = TrainingPlan()
        plan.kind = model
        plan.epochs = epochs
        plan.batchSize = batchSize
        plan.learningRate = learningRate
        plan.optimizer = optimizer
        plan.seed = seed
        plan.validationFraction = validationFraction
        plan.testFraction = testFraction
        plan.ensemble = ensemble
        plan.checkpointEvery = checkpointEvery
        plan.checksumEvery = checksumEvery
        plan.printEvery = printEvery
        plan.runFolder = RunFolder(path: runDir ?? resume ?? "sitelens-run")
        plan.resumeFrom = resume.map { RunFolder(path: $0) }
        plan.haltAfterEpoch = haltAfterEpoch
        plan.convolutionBackend = convBackend
        plan.reproducible = reproducible
        plan.gradientReduction = allReduce
        plan.imageCache = imageCache
        plan.memoryBudget = memoryBudget?.bytes
        var options = ModelOptions()
        options.hidden = hidden
        let elements = structures.elements
        if model == .sites {
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
        options.ryczkoBlocks = blocks
        options.ryczkoDense = dense
        options.patchShape = patchShape
        options.patchSize = patchSize
        options.patchSpacing = patchSpacing
        options.patchSigma = patchSigma
        options.atomicFilters = filters
        options.atomicHidden = atomicHidden
        options.radialHidden = radialHidden
        options.initialisation = initOptions.initialisation
        var notes: [String] = []
        if model == .sites || patchShape == .radial {  // radial patches measure 3-D distances: nothing is projected
            options.raster = try raster.settings(species: structures.species)
        } else {
            let patches = model == .atomic ? (extent: options.patchSpan, sigma: options.patchSigma) : nil
            let images = try ImageChoices(raster, structures: structures, patches: patches)
            options.raster = images.settings
            notes = images.notes
        }
        plan.modelOptions = options
        plan.recordedOptions = recordedOptions()
        return (plan, notes)
    }

    /// The `atomic` patch checked against --interaction-range, or the data's estimated range.
    func patchReachWarning(plan: TrainingPlan, structures: StructureStore) throws -> String? {
        if let interactionRange { return plan.modelOptions.patchReachWarning(interactionRange: interactionRange, how: "--interaction-range") }
        guard let range = try InteractionRange.estimate(structures) else { return nil }
        return plan.modelOptions.patchReachWarning(
            interactionRange: range, how: String(format: "%.3g × the median nearest-neighbour distance; --interaction-range sets it", InteractionRange.nearestNeighbourFactor))
    }

    func run() throws {
        try withMPI { mpi in
            let world = mpi.world
            setThreads(blasThreads ?? (world.size > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount), model: model, backend: convBackend)
            let source = try data.source(requireEnergy: true)
            let (structures, table) = try openStructures(source, world: world)
            let (plan, notes) = try plan(for: structures)
            let run = try TrainingRun(world: world, plan: plan, structures: structures, dataFile: URL(fileURLWithPath: source.path),
                                      overwrite: overwrite, inputs: descriptorFile.map { [URL(fileURLWithPath: $0)] } ?? [])
            let reduction = try plan.gradientReduction.resolved(for: world)
            if world.rank == 0 {
                if let note = table?.skippedSummary { print(note) }
                let groups = min(plan.ensemble, world.size)
                print("sitelens train: \(model.rawValue) model, \(structures.count) structures from \(source.path), "
                      + "\(plan.ensemble) member\(plan.ensemble == 1 ? "" : "s") on \(world.size) rank\(world.size == 1 ? "" : "s") in \(groups) group\(groups == 1 ? "" : "s"), "
                      + "\(plan.epochs) epochs, global batch \(plan.batchSize)" + (world.size > 1 ? ", gradient all-reduce \(plan.gradientReduction)"
                         + (plan.gradientReduction.automatic ? (reduction == .single ? " → single (all ranks share one node)" : " → \(reduction) where a group's ranks span nodes, single within one") : "") : ""))
                if model == .atomic, let warning = try patchReachWarning(plan: plan, structures: structures) { print(warning) }
                notes.forEach { print($0) }
                fflush(nil)
            }
            let trained = try run.train(structures: structures)
            let contributions = try evaluateShared(world: world, trained: trained, structures: structures)
            guard world.rank == 0, let contributions else { return }
            let folder = run.plan.runFolder
            try RunReport.writeLearningCurve(trained.metrics.map { LearningPoint(member: $0.member, epoch: $0.epoch, trainMAE: $0.trainMAE, validationMAE: $0.validationMAE) },
                                             to: folder)
            try writeRunOutputs(members: trained.members, structures: structures, contributions: contributions,
                                roles: run.roles(count: structures.count), to: folder)
            try run.finish()
            print("outputs in \(run.destination.path): model/, metrics.jsonl, decomposition.csv, decomposition.json, site-influence.csv, "
                  + "site-influence.svg, element-site.svg, parity.svg, learning-curve.svg, predictions.csv, test-metrics.json"
                  + (model == .atomic ? ", contributions.xyz" : ""))
        }
    }
}
