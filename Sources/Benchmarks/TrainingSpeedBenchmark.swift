import Foundation
import Images
import MPI
import Networks
import Structures
import Training

/// `bench train`: training speed of the seed models in one process against the same models in
/// Keras (`keras_reference.py`): ryczko per grid and convolution backend, the atomic model's
/// batched and one-by-one steps, and seed A's site network on the HEA table when it is there.
public struct TrainingSpeedBenchmark: Sendable {
    public struct Configuration: Sendable {
        /// Grids of the ryczko rows.
        public var grids = [256, 64]
        /// Timed steps per grid (after one warm-up epoch); 2 for a grid not listed.
        public var stepsPerGrid = [256: 2, 64: 8]
        /// The HEA site table of the sites line; nil: `../shared/data/hea_co2rr_sites.csv` if present.
        public var hea: String?
        /// Epochs of the sites line.
        public var siteEpochs = 3000
        /// Convolution backends timed side by side.
        public var backends: [ConvolutionBackend] = [.dnnl, .im2col]
        /// Convolution precisions timed side by side on each backend that takes them (bf16: dnnl).
        public var precisions: [ConvolutionPrecision] = [.fp32]
        /// Whether to run the Keras references.
        public var runsReferences = true
        /// Planted structures of the atomic table.
        public var atomicStructures = 256
        public init() {}
    }

    /// The two tables and the sites line.
    public struct Outcome: Sendable {
        public let ryczko: BenchmarkTable
        public let atomic: BenchmarkTable
        public let sites: String
    }

    public let configuration: Configuration
    public let references: ReferenceScripts
    public let log: BenchmarkLog

    public init(_ configuration: Configuration, references: ReferenceScripts, log: @escaping BenchmarkLog = printFlushed) {
        self.configuration = configuration
        self.references = references
        self.log = log
    }

    /// Runs the three parts on `world` (one process), printing as it goes.
    public func run(world: Communicator) throws -> Outcome {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        setBLASThreads(cores)
        log("Training benchmark: one process, \(cores) threads for OpenBLAS (kernels: \(blasCoreName())) and for "
            + "\(convolutionLibraryDescription()); Keras/TensorFlow with its defaults on the same cores.")
        log("(With dnnl convolutions, OpenBLAS runs ryczko's small dense layers on one thread, as `sitelens train` does.)")
        if blasCoreName() == "Prescott" {
            log("warning: OpenBLAS uses its generic kernels here; set OPENBLAS_CORETYPE (the Launch scripts do) for several times the speed.")
        }
        log("(TensorFlow does not read OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE; they are unset for the Keras commands only.)")
        let peak = measuredSGEMMPeak()
        log(String(format: "Machine sgemm peak: %.1f GFLOP/s (best of three 2048³ cblas_sgemm, this run).", peak))
        var peaks: [ConvolutionPrecision: Double] = [.fp32: peak]
        if configuration.precisions.contains(.bf16), let bf16 = try measuredConvolutionPeak(.bf16), let fp32 = try measuredConvolutionPeak(.fp32) {
            peaks[.bf16] = bf16
            log(String(format: "Machine bf16 peak: %.1f GFLOP/s (best of five 1×1 oneDNN convolutions, 1024 × 1024 × 4096, bf16 in, "
                       + "Float sums; fp32 the same way: %.1f, so bf16 ÷ fp32 = %.2f×); bf16 rows are read against it.", bf16, fp32, bf16 / fp32))
        }
        return Outcome(ryczko: try ryczkoTable(world: world, peaks: peaks), atomic: try atomicTable(world: world, peak: peak),
                      sites: try sitesLine(world: world))
    }

    /// Per grid, backend and precision: the trainer's samples/s and GFLOP/s, the network's own
    /// forward + backward of one batch at once (and the trainer's share of that rate), Keras's samples/s on the same model in the same
    /// precision (bf16: its mixed_bfloat16 policy), and each precision's rate against fp32's on that backend. GFLOP/s, the
    /// trainer's and Keras's, are read against the precision's peak in `peaks`.
    private func ryczkoTable(world: Communicator, peaks: [ConvolutionPrecision: Double]) throws -> BenchmarkTable {
        log("\nryczko (seed B's CNN), batch 32, Adam; GFLOP/s = 3 × 2 × forward multiply-adds per sample × samples/s:")
        var table = BenchmarkTable(columns: ["grid", "backend", "precision", "trainer samples/s", "GFLOP/s (% peak)", "net fwd+bwd ×32/s",
                                             "trainer ÷ net", "Keras /s (% peak)", "ratio", "against fp32"], width: 19)
        log(table.header)
        for grid in configuration.grids {
            let steps = configuration.stepsPerGrid[grid] ?? 2
            // Keras in each precision timed here: fp32, and mixed_bfloat16 beside bf16.
            var keras: [ConvolutionPrecision: Result<Double, ReferenceUnavailable>] = [:]
            if configuration.runsReferences {
                for precision in configuration.precisions { keras[precision] = kerasRate(grid: grid, steps: steps, precision: precision) }
            }
            for backend in configuration.backends {
                var fp32Rate: Double?
                // In the order of `allCases`: fp32 first, which the others are set against.
                let precisions = ConvolutionPrecision.allCases.filter { configuration.precisions.contains($0) && backend.refusal(of: $0) == nil }
                for precision in precisions {
                    let (rate, gflops, alone) = try ryczkoRates(world: world, grid: grid, steps: steps, backend: backend, precision: precision)
                    let peak = peaks[precision] ?? .nan
                    if precision == .fp32 { fp32Rate = rate }
                    var kerasText = "-", ratio = "-"
                    switch keras[precision] {
                    case .some(.success(let value)):
                        kerasText = String(format: "%.2f (%.0f %%)", value, 100 * value * gflops / rate / peak)
                        ratio = String(format: "%.2f×", rate / value)
                    case .some(.failure(let why)): kerasText = "not run: \(why.reason.prefix(60))"
                    case nil: break
                    }
                    log(table.append(["\(grid)", backend.rawValue, precision.rawValue, String(format: "%.2f", rate),
                                      String(format: "%.1f (%.0f %%)", gflops, 100 * gflops / peak), String(format: "%.2f", alone),
                                      String(format: "%.0f %%", 100 * rate / alone), kerasText, ratio,
                                      fp32Rate.map { String(format: "%.2f×", rate / $0) } ?? "-"]))
                }
            }
        }
        return table
    }

    /// One ryczko row's figures: the trainer's samples/s, its GFLOP/s, and the network's own
    /// forward + backward steps of 32 items per second.
    private func ryczkoRates(world: Communicator, grid: Int, steps: Int, backend: ConvolutionBackend,
                             precision: ConvolutionPrecision) throws -> (rate: Double, gflops: Double, alone: Double) {
        var plan = timingPlan(.ryczko, epochs: 2)
        (plan.convolutionBackend, plan.convolutionPrecision) = (backend, precision)
        setThreads(ProcessInfo.processInfo.activeProcessorCount, model: .ryczko, backend: backend)
        // The seed's 5 Å box and σ at this grid size, one channel.
        plan.modelOptions.raster = RasterSettings(gridSize: grid, extent: 5, sigma: 0.2)
        let trained = try trainEnsemble(world: world, plan: plan, structures: LennardJonesClusters.generate(count: 32 * steps, seed: 5))
        let rate = trained.metrics.last?.samplesPerSecond ?? 0
        let network = try Network(trained.members[0].modelDescription.architecture, convolutionBackend: backend, precision: precision)
        let gflops = rate * 3 * 2 * Double(network.multiplyAddsPerItem) / 1e9
        return (rate, gflops, try network.stepRate(items: 32, repeats: 2))
    }

    /// The atomic model (per-atom patches) on a planted site table: the seed's way (im2col, one
    /// structure at a time) against the batched steps on each backend.
    private func atomicTable(world: Communicator, peak: Double) throws -> BenchmarkTable {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-bench-atomic-\(getpid()).csv")
        try (try PlantedTruth()).siteTable(count: configuration.atomicStructures, seed: 9).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let structures = try StructureSource(path: file.path).load().structures
        log("\natomic (17×17 patches, one per atom), \(structures.count) planted structures, batch 32, Adam:")
        var table = BenchmarkTable(columns: ["backend", "steps", "samples/s", "GFLOP/s (% peak)", "against the first"], width: 19)
        log(table.header)
        var first: Double?
        for (backend, reproducible) in [(ConvolutionBackend.im2col, true), (.im2col, false), (.dnnl, true), (.dnnl, false)] {
            var plan = timingPlan(.atomic, epochs: 2)
            plan.convolutionBackend = backend
            plan.reproducible = reproducible
            setThreads(ProcessInfo.processInfo.activeProcessorCount, model: .atomic, backend: backend)
            let trained = try trainEnsemble(world: world, plan: plan, structures: structures)
            let rate = trained.metrics.last?.samplesPerSecond ?? 0
            let network = try Network(trained.members[0].modelDescription.architecture, convolutionBackend: backend)
            // Items per structure vary; multiply-adds per structure = per item × mean items.
            let items = Double(structures.map { $0.realAtoms.count }.reduce(0, +)) / Double(max(structures.count, 1))
            let gflops = rate * items * 3 * 2 * Double(network.multiplyAddsPerItem) / 1e9
            first = first ?? rate
            log(table.append([backend.rawValue, reproducible ? "one by one" : "batched", String(format: "%.1f", rate),
                              String(format: "%.2f (%.1f %%)", gflops, 100 * gflops / peak), String(format: "%.2f×", rate / (first ?? rate))]))
        }
        return table
    }

    private func kerasRate(grid: Int, steps: Int, precision: ConvolutionPrecision) -> Result<Double, ReferenceUnavailable> {
        references.run("keras_reference.py", ["ryczko", "\(grid)", "32", "\(steps)", precision.rawValue], removing: ReferenceScripts.openBLASVariables).flatMap { line in
            ReferenceScripts.number(line, "samples_per_second").map { .success($0) } ?? .failure(ReferenceUnavailable("no samples_per_second in its output"))
        }
    }
}
