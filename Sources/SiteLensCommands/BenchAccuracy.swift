import ArgumentParser
import Basics
import Foundation
import Images
import MPI
import Networks
import Reports
import Structures
import Training

extension PatchShape: ExpressibleByArgument {}

/// `sitelens bench accuracy`: the image models' test errors on the built-in Lennard-Jones
/// clusters beside a linear least-squares fit on pair-distance histograms and the training mean,
/// all scored on one held-out test set.
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

    @Option(help: "Epochs of atomic.")
    var atomicEpochs = 100

    @Option(help: "Epochs of ryczko.")
    var ryczkoEpochs = 30

    @Option(help: "Global batch size.")
    var batchSize = 32

    @Option(help: "Learning rate (Adam).")
    var learningRate = 1e-3

    @Option(help: "atomic: square (2-D image patches through a small CNN) or radial (Gaussians on a grid of distances through a dense network).")
    var patchShape = ModelOptions().patchShape

    @Option(help: "atomic: patch size in pixels (square) or distance bins (radial).")
    var patchSize = ModelOptions().patchSize

    @Option(help: "atomic: patch pixel spacing (square) or bin spacing Δr (radial), Å.")
    var patchSpacing = ModelOptions().patchSpacing

    @Option(help: "atomic: Gaussian width, Å.")
    var patchSigma = ModelOptions().patchSigma

    @Option(help: "atomic: filters of the shared CNN (square patches only).")
    var filters = ModelOptions().atomicFilters

    @Option(help: "atomic: hidden width of the shared CNN (square patches).")
    var atomicHidden = ModelOptions().atomicHidden

    @Option(help: "atomic: hidden width of the radial patches' network (0: linear, Flatten → Dense(1)).")
    var radialHidden = ModelOptions().radialHidden

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
        guard atomicEpochs >= 1, ryczkoEpochs >= 1, batchSize >= 1, learningRate > 0 else {
            throw ValidationError("--atomic-epochs, --ryczko-epochs and --batch-size must be at least 1, --learning-rate positive")
        }
        _ = try imageModels()
        _ = try histograms()
    }

    func run() throws {
        try withMPI { mpi in
            let world = mpi.world
            setThreads(world.size > 1 ? 1 : ProcessInfo.processInfo.activeProcessorCount, model: .atomic, backend: .dnnl)
            let data = LennardJonesClusters.generate(count: structures, seed: dataSeed)
            var base = TrainingPlan()
            base.seed = seed
            base.testFraction = testFraction
            let test = base.testSet(count: data.count)
            let testSet = Set(test)
            let training = data.indices.filter { !testSet.contains($0) }
            var rows: [Row] = []
            if world.rank == 0 {
                print("Accuracy benchmark: \(data.count) 2-D Lennard-Jones clusters (seed \(dataSeed)), \(test.count) held out "
                      + "(seed \(seed)), \(training.count) to fit or train on; \(world.size) rank\(world.size == 1 ? "" : "s")")
                rows += try baselines(data: data, training: training, test: test)
                rows.forEach { print($0.line) }
                fflush(nil)
            }
            for kind in try imageModels() {
                let plan = plan(kind, base: base)
                if world.rank == 0, kind == .atomic,
                   let warning = plan.modelOptions.patchReachWarning(interactionRange: LennardJonesClusters.interactionRange(),
                                                                     how: "Lennard-Jones, |V| < 2 % of ε beyond 2.5 σ") { print(warning) }
                let start = Date()
                let trained = try trainEnsemble(world: world, plan: plan, structures: data)
                let contributions = try evaluateShared(world: world, members: trained.members, structures: data)
                guard world.rank == 0, let contributions else { continue }
                let predictions = ensemblePredictions(structures: LoadedStructures(data), contributions: contributions,
                                                      roles: plan.roles(count: data.count))
                guard let metrics = TestMetrics(predictions, roles: plan.roles(count: data.count)) else { continue }
                let row = Row(name: "\(kind.rawValue) (\(describe(kind)))", mae: metrics.ensembleMean.mae, rmse: metrics.ensembleMean.rmse,
                              note: String(format: "members MAE %@; %.0f s", metrics.members.map { String(format: "%.3f", $0.mae) }.joined(separator: ", "),
                                           Date().timeIntervalSince(start)))
                rows.append(row)
                print(row.line)
                fflush(nil)
            }
            guard world.rank == 0 else { return }
            printTable(rows)
        }
    }

    /// One line of the results.
    struct Row {
        let name: String
        let mae: Double
        let rmse: Double
        let note: String
        var line: String { String(format: "  %@: test MAE %.4f eV, RMSE %.4f eV (%@)", name, mae, rmse, note) }
    }

    private func histograms() throws -> [PairDistanceHistogram] {
        let widths = binWidths.split(separator: ",").map { Double($0) }
        let values = widths.compactMap { $0 }
        guard !widths.isEmpty, values.count == widths.count else {
            throw ValidationError("--bin-widths wants comma-separated numbers of Å, got '\(binWidths)'")
        }
        return try values.map { try PairDistanceHistogram(binWidth: $0, cutoff: cutoff) }
    }

    private func imageModels() throws -> [ModelKind] {
        try models.split(separator: ",").map { name in
            guard let kind = ModelKind(rawValue: String(name)), kind != .sites else {
                throw ValidationError("--models: '\(name)' is not an image model; choose from atomic, ryczko")
            }
            return kind
        }
    }

    /// The training mean, the linear fit on atom count alone, and on pair-distance histograms.
    private func baselines(data: [Structure], training: [Int], test: [Int]) throws -> [Row] {
        let energies = data.map { $0.energy ?? .nan }
        let trainMean = training.map { energies[$0] }.reduce(0, +) / Double(training.count)
        func row(_ name: String, _ predict: (Int) -> Double, note: String) -> Row {
            let residuals = test.map { predict($0) - energies[$0] }
            return Row(name: name, mae: residuals.map(abs).reduce(0, +) / Double(residuals.count),
                       rmse: (residuals.map { $0 * $0 }.reduce(0, +) / Double(residuals.count)).squareRoot(), note: note)
        }
        let counts = data.map { [1, Double($0.positions.count)] }
        let countsOnly = try LinearLeastSquares(rows: training.map { counts[$0] }, targets: training.map { energies[$0] })
        var rows = [row("training mean", { _ in trainMean }, note: "one number"),
                    row("linear on atom count", { countsOnly.predict(counts[$0]) }, note: "constant + atoms")]
        for histogram in try histograms() {
            let features = data.map(histogram.features)
            let fit = try LinearLeastSquares(rows: training.map { features[$0] }, targets: training.map { energies[$0] })
            rows.append(row(String(format: "linear on pair-distance histogram, %.3g Å bins", histogram.binWidth), { fit.predict(features[$0]) },
                            note: String(format: "%d bins to %.3g Å + constant + atoms, rank %d, LAPACK dgelsd", histogram.bins, cutoff, fit.rank)))
        }
        return rows
    }

    private func plan(_ kind: ModelKind, base: TrainingPlan) -> TrainingPlan {
        var plan = base
        plan.kind = kind
        plan.ensemble = ensemble
        plan.epochs = kind == .atomic ? atomicEpochs : ryczkoEpochs
        plan.batchSize = batchSize
        plan.learningRate = learningRate
        plan.printEvery = max(1, plan.epochs / 5)
        plan.checksumEvery = 0
        plan.modelOptions.patchShape = patchShape
        plan.modelOptions.patchSize = patchSize
        plan.modelOptions.patchSpacing = patchSpacing
        plan.modelOptions.patchSigma = patchSigma
        plan.modelOptions.atomicFilters = filters
        plan.modelOptions.atomicHidden = atomicHidden
        plan.modelOptions.radialHidden = radialHidden
        plan.modelOptions.raster = RasterSettings(gridSize: grid, extent: 5, sigma: sigma)
        plan.modelOptions.ryczkoBlocks = blocks
        plan.modelOptions.ryczkoDense = dense
        return plan
    }

    private func describe(_ kind: ModelKind) -> String {
        switch kind {
        case .atomic where patchShape == .radial:
            return String(format: "radial, %d bins at %.3g Å (reach %.2f Å), σ %.3g Å, %@; lr %.3g, batch %d; %d × %d epochs",
                          patchSize, patchSpacing, patchSpacing * Double(patchSize - 1), patchSigma,
                          radialHidden == 0 ? "linear" : "hidden \(radialHidden) tanh", learningRate, batchSize, ensemble, atomicEpochs)
        case .atomic:
            return String(format: "%d² patch at %.3g Å (reach %.2f Å), σ %.2f Å, %d filters, hidden %d; %d × %d epochs",
                          patchSize, patchSpacing, patchSpacing * Double(patchSize - 1) / 2, patchSigma, filters, atomicHidden, ensemble, atomicEpochs)
        default:
            return String(format: "%d² over 5 Å, σ %.2f Å, %d blocks, dense %d; %d × %d epochs", grid, sigma, blocks, dense, ensemble, ryczkoEpochs)
        }
    }

    private func printTable(_ rows: [Row]) {
        let linearRows = rows.filter { $0.name.hasPrefix("linear on pair") }
        guard let linear = linearRows.min(by: { $0.mae < $1.mae }) else { return }
        print("\n| model | test MAE (eV) | test RMSE (eV) | MAE ÷ best linear fit's |")
        print("|---|---|---|---|")
        for row in rows {
            print(String(format: "| %@ | %.4f | %.4f | %.2f |", row.name, row.mae, row.rmse, row.mae / linear.mae))
        }
    }
}
