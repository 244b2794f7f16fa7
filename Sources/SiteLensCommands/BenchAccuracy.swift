import ArgumentParser
import Benchmarks
import Foundation
import Images
import Networks
import Structures

/// `sitelens bench accuracy`: the image models' test errors on the built-in Lennard-Jones
/// clusters beside linear fits and the training mean; `AccuracyBenchmark` says how.
struct BenchAccuracy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accuracy",
        abstract: "Test MAE/RMSE of the atomic and ryczko ensembles on 2-D Lennard-Jones clusters beside a linear fit on pair-distance histograms.",
        discussion: """
        Generates --structures clusters, holds out the test set `sitelens train` would (--test-fraction, --seed), fits \
        the linear baseline on the rest, trains each model's ensemble as `sitelens train` does, and prints every row's \
        errors on the same test structures. Runs in one process or data-parallel under mpirun.
        """)

    @Option(help: "Lennard-Jones clusters to generate.")
    var structures = 2000

    /// INPUT (instead of generated clusters) and how to read it, as `train` reads it.
    @OptionGroup var data: DataOptions

    @Option(help: "A site table as INPUT: epochs of the sites model.")
    var sitesEpochs = 1000

    @Option(help: "Seed of the data set.")
    var dataSeed: UInt64 = 7

    @Option(help: "Seed of the split and the weights (as `train --seed`).")
    var seed: UInt64 = 1

    @Option(help: "Share of the structures held out as the test set.")
    var testFraction = 0.1

    @Option(help: "Linear baselines: pair-distance bin widths, Å, comma-separated (one fit each; finer bins fit the steep wall better).")
    var binWidths = "0.05,0.01,0.005"

    @Option(help: "Linear baseline: largest pair distance counted, Å (the 5 Å box's diagonal is 5.66 Å).")
    var cutoff = 6.0

    @Option(help: "Image models to train, comma-separated (atomic, ryczko; empty: none).")
    var models = "atomic,ryczko"

    @Option(help: "Ensemble members per model.")
    var ensemble = 2

    @Option(help: "Epochs of atomic (default: the patch shape's, as `train`'s, else \(AccuracyBenchmark.Configuration().atomicEpochs)).")
    var atomicEpochs: Int?

    @Option(help: "Epochs of ryczko.")
    var ryczkoEpochs = 30

    @Option(help: "Global batch size.")
    var batchSize = 32

    @Option(help: "Learning rate (Adam) of every model (default: the atomic patch shape's, as `train`'s, else \(AccuracyBenchmark.Configuration().learningRate)).")
    var learningRate: Double?

    @OptionGroup var atomic: AtomicOptions

    @Option(help: "ryczko: grid (pixels per side) over the 5 Å box.")
    var grid = 64

    @Option(help: "ryczko: Gaussian width, Å.")
    var sigma = 0.2

    @Option(help: "ryczko: conv blocks.")
    var blocks = 3

    @Option(help: "ryczko: dense width.")
    var dense = 128

    func validate() throws {
        guard (10...1_000_000).contains(structures) else { throw ValidationError("--structures must be in 10...1000000, got \(structures)") }
        guard testFraction > 0 && testFraction < 1 else { throw ValidationError("--test-fraction must be in (0, 1), got \(testFraction)") }
        guard (1...64).contains(ensemble) else { throw ValidationError("--ensemble must be in 1...64, got \(ensemble)") }
        guard (atomicEpochs ?? 1) >= 1, ryczkoEpochs >= 1, sitesEpochs >= 1, batchSize >= 1, (learningRate ?? 1) > 0 else {
            throw ValidationError("--atomic-epochs, --ryczko-epochs, --sites-epochs and --batch-size must be at least 1, --learning-rate positive")
        }
        _ = try benchmarkConfiguration()
    }

    private func benchmarkConfiguration() throws -> AccuracyBenchmark.Configuration {
        var configuration = AccuracyBenchmark.Configuration()
        (configuration.structures, configuration.dataSeed, configuration.seed, configuration.testFraction) = (structures, dataSeed, seed, testFraction)
        let widths = try commaSeparated(binWidths, option: "--bin-widths", expecting: "a number of Å") { Double($0) }
        guard !widths.isEmpty else { throw ValidationError("--bin-widths wants comma-separated numbers of Å, got '\(binWidths)'") }
        configuration.histograms = try widths.map { try PairDistanceHistogram(binWidth: $0, cutoff: cutoff) }
        configuration.models = try commaSeparated(models, option: "--models", expecting: "an image model; choose from atomic, ryczko") { name in
            ModelKind(rawValue: name).flatMap { $0 == .sites ? nil : $0 }
        }
        let atomicDefaults = ModelKind.atomic.defaults(patchShape: atomic.patchShape)
        configuration.atomicEpochs = atomicEpochs ?? atomicDefaults.epochs ?? configuration.atomicEpochs
        configuration.learningRate = learningRate ?? atomicDefaults.learningRate ?? configuration.learningRate
        (configuration.ensemble, configuration.ryczkoEpochs, configuration.batchSize) = (ensemble, ryczkoEpochs, batchSize)
        configuration.sitesEpochs = sitesEpochs
        atomic.apply(to: &configuration.modelOptions)
        configuration.modelOptions.raster = RasterSettings(gridSize: grid, extent: 5, sigma: sigma)
        configuration.modelOptions.ryczkoBlocks = blocks
        configuration.modelOptions.ryczkoDense = dense
        return configuration
    }

    func run() throws {
        var configuration = try benchmarkConfiguration()
        if let input = data.input {
            let loaded = try data.source(requireEnergy: true).load()
            configuration.given = (loaded.structures, (loaded.table == nil ? "structures of " : "rows of ") + input)
            // A site table has one geometry: only the sites model reads it.
            if loaded.table != nil { configuration.models = [.sites] }
        }
        try withMPI { mpi in
            setThreads(mpi.world.size > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount, model: .atomic, backend: .standard)
            _ = try AccuracyBenchmark(configuration).run(world: mpi.world)
        }
    }
}
