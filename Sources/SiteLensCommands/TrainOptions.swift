import ArgumentParser
import Basics
import Foundation
import Networks
import Structures
import Training

// `train`'s options, in groups that each fill their part of the plan: a new option is declared
// and copied in one place, beside the others of its kind. Defaults come from the types that use
// them (one owner each). The groups have no title, so `train --help` lists them as before.

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
extension GradientPrecision: ExpressibleByArgument {}
extension ConvolutionPrecision: ExpressibleByArgument {}

private let planDefaults = TrainingPlan()

/// A default as `train --help` shows it: the general one, then each model (and `atomic` patch
/// shape) whose recipe sets its own, e.g. "100; sites 3000, atomic radial 3000".
func perModelDefault<Value>(_ general: Value, _ value: (ModelDefaults) -> Value?) -> String {
    let own = ModelKind.allDefaults.compactMap { entry in value(entry.defaults).map { "\(entry.name) \($0)" } }
    return own.isEmpty ? "\(general)" : "\(general); \(own.joined(separator: ", "))"
}

/// What to train, for how long, and where the run lives.
struct RunOptions: ParsableArguments {
    @Option(help: "Model: \(ModelKind.allCases.map { "\($0.rawValue) (\($0.summary))" }.joined(separator: ", ")).")
    var model: ModelKind = planDefaults.kind

    @Option(help: "Epochs (default: \(perModelDefault(planDefaults.epochs) { $0.epochs })).")
    var epochs: Int?

    @Option(help: "Global batch size (samples per optimiser step, over all ranks of a group).")
    var batchSize = planDefaults.batchSize

    @Option(help: "Learning rate (default: \(perModelDefault(planDefaults.learningRate) { $0.learningRate })).")
    var learningRate: Double?

    @Option(help: "Optimiser: adam (Keras defaults) or sgd.")
    var optimizer: OptimizerKind = planDefaults.optimizer

    @Option(help: "Seed of every random choice (weights, split, order); members derive theirs from it.")
    var seed = planDefaults.seed

    @Option(help: "Share of the structures each member holds out for validation.")
    var validationFraction = planDefaults.validationFraction

    @Option(help: "Share of the structures held out from every member: the ensemble's test set.")
    var testFraction = planDefaults.testFraction

    @Option(help: "Ensemble members.")
    var ensemble = planDefaults.ensemble

    @Option(help: "Folder for models, metrics, tables and plots; must be new or empty (default: the --resume folder, else sitelens-run).")
    var runDir: String?

    @Flag(help: "Replace the SiteLens run in --run-dir once the new run has finished (a failed run leaves the old one whole); refuses a folder holding anything else.")
    var overwrite = false

    @Option(help: "Write a checkpoint every N epochs (0: never).")
    var checkpointEvery = planDefaults.checkpointEvery

    @Option(help: "Compare parameter checksums across ranks every N steps.")
    var checksumEvery = planDefaults.checksumEvery

    @Option(help: "Print a progress line every N epochs.")
    var printEvery = planDefaults.printEvery

    @Option(help: "Continue the run in this folder from its checkpoints; data, seed, model, optimiser and ensemble must match.")
    var resume: String?

    @Option(help: .hidden)
    var haltAfterEpoch: Int?

    @Option(help: "Options from a JSON file, keyed by the flags' names without dashes, e.g. {\"model\": \"ryczko\", \"epochs\": 50}; flags given here win over it.")
    var config: String?

    func check() throws {
        guard !(overwrite && resume != nil) else { throw ValidationError("--overwrite and --resume exclude each other") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard (1...TrainingPlan.ensembleLimit).contains(ensemble) else {
            throw ValidationError("--ensemble must be in 1...\(TrainingPlan.ensembleLimit), got \(ensemble)")
        }
        guard validationFraction >= 0 && validationFraction < 1 else { throw ValidationError("--validation-fraction must be in [0, 1)") }
        guard testFraction >= 0 && testFraction < 1 else { throw ValidationError("--test-fraction must be in [0, 1)") }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) { throw ValidationError("--learning-rate must be positive, got \(learningRate)") }
    }

    /// The epochs: --epochs, else the model's default (`defaults`), else the plan's.
    func resolvedEpochs(_ defaults: ModelDefaults) -> Int { epochs ?? defaults.epochs ?? planDefaults.epochs }

    /// The learning rate: --learning-rate, else the model's default, else the plan's.
    func resolvedLearningRate(_ defaults: ModelDefaults) -> Double { learningRate ?? defaults.learningRate ?? planDefaults.learningRate }

    /// Fills the plan; an option not given takes the model's default (`defaults`).
    func apply(to plan: inout TrainingPlan, defaults: ModelDefaults) {
        (plan.kind, plan.epochs, plan.batchSize) = (model, resolvedEpochs(defaults), batchSize)
        (plan.learningRate, plan.optimizer) = (resolvedLearningRate(defaults), optimizer)
        (plan.seed, plan.validationFraction, plan.testFraction, plan.ensemble) = (seed, validationFraction, testFraction, ensemble)
        (plan.checkpointEvery, plan.checksumEvery, plan.printEvery) = (checkpointEvery, checksumEvery, printEvery)
        plan.runFolder = RunFolder(path: runDir ?? resume ?? "sitelens-run")
        plan.resumeFrom = resume.map { RunFolder(path: $0) }
        plan.haltAfterEpoch = haltAfterEpoch
    }

    /// The config file's path and contents, for run.json's provenance.
    func configRecord() throws -> RunProvenance.ConfigFile? {
        try config.map { try TrainConfigFile(path: $0).record }
    }
}

/// Whether encoded samples are kept in memory.
struct CacheOptions: ParsableArguments {
    @Option(help: "Keep each rank's rasterised shard in memory (always), rasterise each step's samples on the fly (never), or decide by --memory-budget (auto).")
    var imageCache: ImageCache = planDefaults.imageCache

    @Option(help: "Memory a rank may spend on cached samples, e.g. 2G or 500M (default: half the node's memory over the ranks on it).")
    var memoryBudget: ByteCount?

    func apply(to plan: inout TrainingPlan) {
        (plan.imageCache, plan.memoryBudget) = (imageCache, memoryBudget?.bytes)
    }
}

/// How each rank computes: threads, convolution library, reproducibility, gradient all-reduce.
struct ComputeOptions: ParsableArguments {
    @Option(help: "BLAS and oneDNN threads per rank (default: 1 under mpirun with several ranks, else all cores).")
    var blasThreads: Int?

    @Option(help: "Convolutions by \(ConvolutionBackend.choicesDescription).")
    var convBackend: ConvolutionBackend = planDefaults.convolutionBackend

    @Option(help: "Number format of the convolutions: fp32, or bf16 (bf16 inputs, Float sums, Float weights and files; dnnl backend on a CPU with AVX512_BF16 or AMX).")
    var precision = planDefaults.convolutionPrecision

    @Flag(help: "One sample at a time with Double gradient sums: bit-identical for any rank count, slower.")
    var reproducible = false

    /// Hidden: `bench scaling` compares the modes; `auto` (the default) picks one per group.
    @Option(help: .hidden)
    var allReduce = planDefaults.gradientReduction

    @Option(help: "Precision the gradient sum crosses ranks in: double, float (half the bytes) or bf16 (a quarter, rounded to nearest even); --reproducible needs double.")
    var gradientPrecision = planDefaults.gradientPrecision

    @Option(help: "Seconds without a finished training step after which a rank says where it waits (a rank or node that stopped answering), and twice that after which the job ends; 0: wait forever.")
    var stallTimeout = planDefaults.stallTimeout ?? 0

    static let stallTimeoutRange = 5.0...86_400.0

    func check() throws {
        if reproducible && !gradientPrecision.keepsRankCountsIdentical {
            throw ValidationError("--reproducible needs --gradient-precision double: \(gradientPrecision) sums round at each addition across ranks, so another rank count ends with other weights")
        }
        if let blasThreads, !(1...1024).contains(blasThreads) { throw ValidationError("--blas-threads must be in 1...1024, got \(blasThreads)") }
        guard stallTimeout == 0 || Self.stallTimeoutRange.contains(stallTimeout) else {
            throw ValidationError("--stall-timeout must be 0 (off) or in \(Self.stallTimeoutRange) s, got \(stallTimeout)")
        }
    }

    func apply(to plan: inout TrainingPlan) {
        (plan.convolutionBackend, plan.convolutionPrecision) = (convBackend, precision)
        (plan.reproducible, plan.gradientReduction) = (reproducible, allReduce)
        plan.gradientPrecision = gradientPrecision
        plan.stallTimeout = stallTimeout == 0 ? nil : stallTimeout
    }

    /// Threads for `model` on a world of `ranks`: --blas-threads, else 1 under mpirun with several ranks, else all cores.
    func setThreads(ranks: Int, model: ModelKind) {
        Networks.setThreads(blasThreads ?? (ranks > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount), model: model, backend: convBackend)
    }
}
