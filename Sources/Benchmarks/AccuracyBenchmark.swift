import Foundation
import Images
import MPI
import Networks
import Reports
import Structures
import Training

/// `bench accuracy`: the models' test errors on the built-in 2-D Lennard-Jones clusters (or on
/// given structures, e.g. a site table) beside linear least-squares fits (on pair-distance
/// histograms; on site × element counts where structures have site labels) and the training
/// mean, all scored on the test set `sitelens train` would hold out, with the ensembles'
/// uncertainty (Spearman, coverage before and after calibration). Runs in one process or data-parallel.
public struct AccuracyBenchmark: Sendable {
    public struct Configuration: Sendable {
        /// Lennard-Jones clusters generated, and their seed.
        public var structures = 2000, dataSeed: UInt64 = 7
        /// Structures to use instead of generated clusters, and what to call them.
        public var given: (structures: [Structure], name: String)?
        public var sitesEpochs = 1000
        /// Seed of the split and the weights (as `train --seed`), and the held-out share.
        public var seed: UInt64 = 1, testFraction = 0.1
        /// One linear baseline per histogram.
        public var histograms: [PairDistanceHistogram] = []
        /// The image models trained, each as an ensemble of `ensemble` members.
        public var models: [ModelKind] = [.atomic, .ryczko]
        public var ensemble = 2
        public var atomicEpochs = 100, ryczkoEpochs = 30
        public var batchSize = 32, learningRate = 1e-3
        /// Both models' options (atomic patches; ryczko's raster, blocks and dense width).
        public var modelOptions = ModelOptions()
        public init() {}
    }

    /// One model's (or baseline's) errors on the test set.
    public struct Row: Sendable {
        public let name: String
        public let mae: Double
        public let rmse: Double
        public let note: String
        /// An ensemble's test uncertainty line (`TestMetrics.UncertaintyMetrics.summary`).
        public var uncertainty: String? = nil
        var line: String { String(format: "  %@: test MAE %.4f eV, RMSE %.4f eV (%@)", name, mae, rmse, note) }
    }

    public let configuration: Configuration
    public let log: BenchmarkLog

    public init(_ configuration: Configuration, log: @escaping BenchmarkLog = printFlushed) {
        self.configuration = configuration
        self.log = log
    }

    /// Fits the baselines (rank 0), trains each model on `world`; rank 0 prints each row as it
    /// comes, then the Markdown table, and returns it; the other ranks return nil.
    public func run(world: Communicator) throws -> BenchmarkTable? {
        let data = configuration.given?.structures ?? LennardJonesClusters.generate(count: configuration.structures, seed: configuration.dataSeed)
        let dataName = configuration.given?.name ?? "2-D Lennard-Jones clusters (seed \(configuration.dataSeed))"
        var base = TrainingPlan()
        base.seed = configuration.seed
        base.testFraction = configuration.testFraction
        let test = base.testSet(count: data.count)
        let testSet = Set(test)
        let training = data.indices.filter { !testSet.contains($0) }
        var rows: [Row] = []
        if world.rank == 0 {
            log("Accuracy benchmark: \(data.count) \(dataName), \(test.count) held out "
                + "(seed \(configuration.seed)), \(training.count) to fit or train on; \(world.size) rank\(world.size == 1 ? "" : "s")")
            rows += try baselines(data: data, training: training, test: test)
            rows.forEach { log($0.line) }
        }
        for kind in configuration.models {
            guard let row = try trainedRow(kind, base: base, data: data, world: world) else { continue }
            rows.append(row)
            log(row.line)
            if let uncertainty = row.uncertainty { log("    " + uncertainty) }
        }
        guard world.rank == 0 else { return nil }
        let table = Self.table(rows)
        if !table.rows.isEmpty { log("\n" + table.markdown) }
        return table
    }

    /// `kind`'s ensemble trained as `sitelens train` does and scored on the test set (rank 0; nil elsewhere).
    private func trainedRow(_ kind: ModelKind, base: TrainingPlan, data: [Structure], world: Communicator) throws -> Row? {
        let plan = plan(kind, base: base)
        if world.rank == 0, kind == .atomic,
           let warning = plan.modelOptions.patchReachWarning(interactionRange: LennardJonesClusters.interactionRange(),
                                                             how: "Lennard-Jones, |V| < 2 % of ε beyond 2.5 σ") { log(warning) }
        let start = Date()
        let trained = try trainEnsemble(world: world, plan: plan, structures: data)
        let contributions = try evaluateShared(world: world, members: trained.members, structures: data)
        guard world.rank == 0, let contributions else { return nil }
        let roles = plan.roles(count: data.count)
        // As `train` reports: members that did not learn left out, the interval calibrated.
        let store = LoadedStructures(data)
        let check = EnsembleCheck(plan: plan, structures: store, members: trained.members, contributions: contributions)
        check.notes.forEach { log("    " + $0) }
        let predictions = ensemblePredictions(structures: store, contributions: check.kept.map { contributions[$0] }, roles: roles,
                                              calibration: check.calibration)
        guard let metrics = TestMetrics(predictions, roles: roles, calibration: check.calibration) else { return nil }
        return Row(name: "\(kind.rawValue) (\(describe(kind)))", mae: metrics.ensembleMean.mae, rmse: metrics.ensembleMean.rmse,
                   note: String(format: "members MAE %@; %.0f s", metrics.members.map { String(format: "%.3f", $0.mae) }.joined(separator: ", "),
                                Date().timeIntervalSince(start)),
                   uncertainty: metrics.uncertainty?.summary)
    }

    /// The training mean, the linear fit on atom count alone, and on each pair-distance histogram.
    private func baselines(data: [Structure], training: [Int], test: [Int]) throws -> [Row] {
        let energies = data.map { $0.energy ?? .nan }
        let trainMean = training.map { energies[$0] }.reduce(0, +) / Double(max(training.count, 1))
        func row(_ name: String, _ predict: (Int) -> Double, note: String) -> Row {
            let residuals = test.map { predict($0) - energies[$0] }
            let count = Double(max(residuals.count, 1))
            return Row(name: name, mae: residuals.map(abs).reduce(0, +) / count,
                       rmse: (residuals.map { $0 * $0 }.reduce(0, +) / count).squareRoot(), note: note)
        }
        let counts = data.map { [1, Double($0.positions.count)] }
        let countsOnly = try LinearLeastSquares(rows: training.map { counts[$0] }, targets: training.map { energies[$0] })
        var rows = [row("training mean", { _ in trainMean }, note: "one number"),
                    row("linear on atom count", { countsOnly.predict(counts[$0]) }, note: "constant + atoms")]
        for pairwise in [false, true] {
            // Pairwise columns only where the training structures outnumber them twice over (else the fit interpolates noise).
            guard let counts = SiteElementCounts(data, pairwise: pairwise), !pairwise || 2 * (counts.columns.count + 1) <= training.count else { continue }
            let features = data.map(counts.features)
            let fit = try LinearLeastSquares(rows: training.map { features[$0] }, targets: training.map { energies[$0] })
            rows.append(row(pairwise ? "linear on site × element counts with pairwise terms" : "linear on site × element counts", { fit.predict(features[$0]) },
                            note: (pairwise ? "adds single-atom site's element × counts at the other sites" : "one-hot per (site, element)")
                                + " + constant: \(counts.columns.count + 1) columns, rank \(fit.rank)"))
        }
        // Pair-distance histograms describe geometry; site tables have one template geometry.
        for histogram in configuration.histograms where configuration.given == nil || data.allSatisfy({ $0.siteLabels == nil }) {
            let features = data.map(histogram.features)
            let fit = try LinearLeastSquares(rows: training.map { features[$0] }, targets: training.map { energies[$0] })
            rows.append(row(String(format: "linear on pair-distance histogram, %.3g Å bins", histogram.binWidth), { fit.predict(features[$0]) },
                            note: String(format: "%d bins to %.3g Å + constant + atoms, rank %d, LAPACK dgelsd", histogram.bins, histogram.cutoff, fit.rank)))
        }
        return rows
    }

    private func plan(_ kind: ModelKind, base: TrainingPlan) -> TrainingPlan {
        var plan = base
        plan.kind = kind
        plan.ensemble = configuration.ensemble
        plan.epochs = kind == .atomic ? configuration.atomicEpochs : kind == .sites ? configuration.sitesEpochs : configuration.ryczkoEpochs
        plan.batchSize = configuration.batchSize
        plan.learningRate = configuration.learningRate
        plan.printEvery = max(1, plan.epochs / 5)
        plan.checksumEvery = 0
        plan.modelOptions = configuration.modelOptions
        return plan
    }

    private func describe(_ kind: ModelKind) -> String {
        let options = configuration.modelOptions, c = configuration
        switch kind {
        case .atomic where options.patchShape == .radial:
            return String(format: "radial, %d bins at %.3g Å (reach %.2f Å), σ %.3g Å, %@; lr %.3g, batch %d; %d × %d epochs",
                          options.patchSize, options.patchSpacing, options.patchSpacing * Double(options.patchSize - 1), options.patchSigma,
                          options.radialHidden == 0 ? "linear" : "hidden \(options.radialHidden) tanh", c.learningRate, c.batchSize, c.ensemble, c.atomicEpochs)
        case .atomic:
            return String(format: "%d² patch at %.3g Å (reach %.2f Å), σ %.2f Å, %d filters, hidden %d; %d × %d epochs",
                          options.patchSize, options.patchSpacing, options.patchSpacing * Double(options.patchSize - 1) / 2, options.patchSigma,
                          options.atomicFilters, options.atomicHidden, c.ensemble, c.atomicEpochs)
        case .sites:
            return "hidden \(options.hidden); \(c.ensemble) × \(c.sitesEpochs) epochs"
        default:
            return String(format: "%d² over 5 Å, σ %.2f Å, %d blocks, dense %d; %d × %d epochs", options.raster.gridSize, options.raster.sigma,
                          options.ryczkoBlocks, options.ryczkoDense, c.ensemble, c.ryczkoEpochs)
        }
    }

    /// Every row beside the strongest linear fit (on pair distances or site × element counts;
    /// the count of atoms alone is no fit of the energy's shape), no table without one.
    static func table(_ rows: [Row]) -> BenchmarkTable {
        var table = BenchmarkTable(columns: ["model", "test MAE (eV)", "test RMSE (eV)", "MAE ÷ best linear fit's"], width: 0)
        guard let linear = rows.filter({ $0.name.hasPrefix("linear on pair") || $0.name.hasPrefix("linear on site") })
            .min(by: { $0.mae < $1.mae }) else { return table }
        for row in rows {
            table.append([row.name, String(format: "%.4f", row.mae), String(format: "%.4f", row.rmse), String(format: "%.2f", row.mae / linear.mae)])
        }
        return table
    }
}
