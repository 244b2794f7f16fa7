import ArgumentParser
import Foundation
import MPI
import Networks
import Reports
import Structures
import Training

/// `sitelens train`: data-parallel training of an ensemble, then the site decomposition.
package struct Train: ParsableCommand {
    package static let configuration = CommandConfiguration(
        abstract: "Train an ensemble under mpirun (or in one process) and decompose it site by site.",
        discussion: """
        Each rank rasterises and holds only its shard; gradients are all-reduced every step. With \
        --ensemble K the ranks split into min(K, ranks) groups that train the members. Rank 0 writes \
        the members, metrics.jsonl, the decomposition tables and the plots into --run-dir.
        """)

    // The groups in the order `train --help` lists their options (TrainOptions.swift).
    @OptionGroup package var data: DataOptions
    @OptionGroup var runOptions: RunOptions
    @OptionGroup var fit: FitOptions
    @OptionGroup var ensembleOptions: EnsembleOptions
    @OptionGroup var sites: SitesModelOptions
    @OptionGroup var atomic: AtomicModelOptions
    @OptionGroup var ryczko: RyczkoModelOptions
    @OptionGroup(title: "Images (ryczko; --depth also for atomic patches)") var raster: RasterOptions
    @OptionGroup var cache: CacheOptions
    @OptionGroup var initOptions: InitOptions
    @OptionGroup var compute: ComputeOptions

    package init() {}

    package func validate() throws {
        guard data.input != nil else { throw ValidationError("give the input file to train on") }
        try runOptions.check()
        try fit.check(learningRate: runOptions.resolvedLearningRate(modelDefaults))
        try atomic.check()
        try compute.check()
        if let refusal = compute.precision.refusal(model: runOptions.model, backend: compute.convBackend) { throw ValidationError(refusal) }
        try ensembleOptions.check()
    }

    /// The defaults of the model (and patch shape) asked for, which options not given take.
    var modelDefaults: ModelDefaults { runOptions.model.defaults(patchShape: atomic.network.patchShape) }

    /// The plan for these structures, and notes for the start of the run (what `auto` chose).
    /// `leading` are the structures the start-of-run checks look at (read once for all of them).
    package func plan(for structures: StructureStore, leading: LeadingStructures) throws -> (TrainingPlan, notes: [String]) {
        var plan = TrainingPlan()
        runOptions.apply(to: &plan, defaults: modelDefaults)
        fit.apply(to: &plan)
        ensembleOptions.apply(to: &plan)
        cache.apply(to: &plan)
        compute.apply(to: &plan)
        var options = ModelOptions()
        try sites.apply(to: &options, kind: plan.kind, elements: structures.elements)
        ryczko.apply(to: &options)
        atomic.apply(to: &options)
        options.initialisation = initOptions.resolved(modelDefaults)
        var notes: [String] = []
        let use = options.imageUse(for: plan.kind)
        if use == .none {
            options.raster = try raster.settings(species: structures.species)
        } else {  // whole images or patches are projected: `auto` depth and channels are decided from the data
            let boxFromData = raster.extentFromData(byDefault: modelDefaults.extentFromData)
            let images = try ImageChoices(raster, structures: structures, leading: leading, patches: use.patches,
                                          whole: .init(boxFromData: boxFromData, refuseCropping: true))
            options.raster = images.settings
            notes = images.notes
        }
        plan.modelOptions = options
        plan.recordedOptions = try recordedOptions(raster: options.raster)
        plan.configFile = try runOptions.configRecord()
        return (plan, notes)
    }

    package func run() throws {
        if compute.allReduce.hierarchical { try HierarchicalCollectives.enable() }
        try withMPI { mpi in
            let world = mpi.world
            compute.setThreads(ranks: world.size, model: runOptions.model)
            let source = try data.source(requireEnergy: true)
            let (structures, table) = try openStructures(source, world: world)
            let run: TrainingRun
            do {  // the leading structures are let go before training
                let leading = LeadingStructures(structures)
                let (plan, notes) = try plan(for: structures, leading: leading)
                run = try TrainingRun(world: world, plan: plan, structures: structures, dataFile: URL(fileURLWithPath: source.path),
                                      overwrite: runOptions.overwrite, inputs: sites.inputs)
                try announce(plan, notes: notes, structures: structures, leading: leading, skipped: table?.skippedSummary,
                             source: source.path, world: world,
                             gradientBytes: try Network(run.model.0).parameterCount * plan.gradientPrecision.bytesPerValue)
            }
            try trainAndReport(run, structures: structures)
        }
    }

    /// What the run will do, printed by rank 0 before training: skipped rows, the start line, a
    /// patch that cannot see as far as atoms interact, what `auto` chose. Every rank resolves
    /// the gradient reduction (a collective).
    func announce(_ plan: TrainingPlan, notes: [String], structures: StructureStore, leading: LeadingStructures, skipped: String?,
                  source: String, world: Communicator, gradientBytes: Int? = nil) throws {
        let choice = try plan.gradientReduction.choice(for: world, gradientBytes: gradientBytes)
        guard world.rank == 0 else { return }
        if let skipped { print(skipped) }
        print(startLine(plan: plan, structures: structures.count, source: source, ranks: world.size, choice: choice))
        let range = { try atomic.interactionRange(of: leading) }
        if let warning = try plan.modelOptions.reachWarning(for: plan.kind, interactionRange: range) { print(warning) }
        notes.forEach { print($0) }
        fflush(nil)
    }

    /// The line that opens a run: what trains on what, where, for how long.
    func startLine(plan: TrainingPlan, structures: Int, source: String, ranks: Int, choice: ReductionChoice?) -> String {
        let groups = min(plan.ensemble, ranks)
        let automatic = choice.map { " → \($0.mode) (\($0.reason))" + (groups > 1 ? "; each member's group decides for its own ranks" : "") } ?? ""
        return "sitelens train: \(plan.kind.rawValue) model, \(structures) structures from \(source), "
            + "\(plan.ensemble) member\(plan.ensemble == 1 ? "" : "s") on \(ranks) rank\(ranks == 1 ? "" : "s") in \(groups) group\(groups == 1 ? "" : "s"), "
            + "\(plan.epochs) epochs, global batch \(plan.batchSize)"
            + (plan.kind.convolves ? ", convolutions in \(plan.convolutionPrecision)" : "")
            + (ranks > 1 ? ", gradient all-reduce \(plan.gradientReduction)" + automatic
               + (plan.gradientPrecision == .double ? "" : " in \(plan.gradientPrecision)") : "")
    }
}

extension ImageUse {
    /// The patch each atom sees, for `ImageChoices`; nil for whole images.
    var patches: (extent: Double, sigma: Double)? {
        guard case .patches(let extent, let sigma) = self else { return nil }
        return (extent, sigma)
    }
}
