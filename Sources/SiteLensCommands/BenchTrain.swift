import ArgumentParser
import Foundation
import Images
import MPI
import Networks
import Structures
import Training

/// `sitelens bench train`: training speed of the seed models against the same models in Keras.
struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "ryczko throughput at G = 256 and 64 (batch 32) and the sites model's 3000 epochs, beside Keras/TensorFlow.")

    @Option(help: "Grids for the ryczko model, comma-separated.")
    var grids = "256,64"

    @Option(help: "Timed steps per grid (after one warm-up epoch), as 'GRID:STEPS' pairs.")
    var steps = "256:2,64:8"

    @Option(help: "The HEA site table for the sites benchmark (default: ../shared/data/hea_co2rr_sites.csv if present).")
    var hea: String?

    @Option(help: "Epochs of the sites benchmark.")
    var siteEpochs = 3000

    @Option(help: "Convolution backends to time side by side, comma-separated (dnnl, im2col).")
    var convBackends = "dnnl,im2col"

    @Flag(help: "Skip the Keras references.")
    var noReference = false

    func run() throws {
        try withMPI { mpi in
            let cores = ProcessInfo.processInfo.activeProcessorCount
            setBLASThreads(cores)
            print("Training benchmark: one process, \(cores) threads for OpenBLAS (kernels: \(blasCoreName())) and for "
                  + "\(convolutionLibraryDescription()); Keras/TensorFlow with its defaults on the same cores.")
            print("(With dnnl convolutions, OpenBLAS runs ryczko's small dense layers on one thread, as `sitelens train` does.)")
            if blasCoreName() == "Prescott" {
                print("warning: OpenBLAS uses its generic kernels here; set OPENBLAS_CORETYPE (the Launch scripts do) for several times the speed.")
            }
            print("(TensorFlow does not read OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE; they are unset for the Keras commands only.)")
            let peak = measuredSGEMMPeak()
            print(String(format: "Machine sgemm peak: %.1f GFLOP/s (best of three 2048³ cblas_sgemm, this run).", peak))
            try ryczkoTable(mpi: mpi, peak: peak)
            try atomicTable(mpi: mpi, peak: peak)
            try sitesLine(mpi: mpi)
        }
    }

    /// The ryczko rows: per grid and backend, the trainer's samples/s and GFLOP/s, the network's
    /// own forward + backward of one batch at once, and Keras's samples/s on the same model.
    private func ryczkoTable(mpi: MPIEnvironment, peak: Double) throws {
        let backends = try convBackends.split(separator: ",").map { name -> ConvolutionBackend in
            guard let backend = ConvolutionBackend(rawValue: String(name)) else {
                throw ValidationError("--conv-backends: '\(name)' is not one of \(ConvolutionBackend.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return backend
        }
        let stepTable = Dictionary(steps.split(separator: ",").compactMap { pair -> (Int, Int)? in
            let parts = pair.split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }, uniquingKeysWith: { _, last in last })
        print("\nryczko (seed B's CNN), batch 32, Adam; GFLOP/s = 3 × 2 × forward multiply-adds per sample × samples/s:")
        let header = ["grid", "backend", "trainer samples/s", "GFLOP/s (% peak)", "net fwd+bwd ×32/s", "Keras samples/s", "ratio"]
        print(header.map { $0.padding(toLength: 19, withPad: " ", startingAt: 0) }.joined())
        for grid in grids.split(separator: ",").compactMap({ Int($0) }) {
            let stepCount = stepTable[grid] ?? 2
            let keras = noReference ? nil : kerasRate(grid: grid, steps: stepCount)
            for backend in backends {
                let structures = LennardJonesClusters.generate(count: 32 * stepCount, seed: 5)
                var plan = timingPlan(.ryczko, epochs: 2)
                plan.convolutionBackend = backend
                setThreads(ProcessInfo.processInfo.activeProcessorCount, model: .ryczko, backend: backend)
                // The seed's 5 Å box and σ at this grid size, one channel.
                plan.modelOptions.raster = RasterSettings(gridSize: grid, extent: 5, sigma: 0.2)
                let trained = try trainEnsemble(world: mpi.world, plan: plan, structures: structures)
                let rate = trained.metrics.last?.samplesPerSecond ?? 0
                let network = try Network(trained.members[0].description.architecture, convolutionBackend: backend)
                let gflops = rate * 3 * 2 * Double(network.multiplyAddsPerItem) / 1e9
                let alone = try network.stepRate(items: 32, repeats: 2)
                var kerasText = "-", ratio = "-"
                switch keras {
                case .some(.success(let value)): kerasText = String(format: "%.2f", value); ratio = String(format: "%.2f×", rate / value)
                case .some(.failure(let why)): kerasText = "not run: \(why.reason.prefix(60))"
                case .none: break
                }
                print(["\(grid)", backend.rawValue, String(format: "%.2f", rate), String(format: "%.1f (%.0f %%)", gflops, 100 * gflops / peak),
                       String(format: "%.2f", alone), kerasText, ratio]
                    .map { $0.padding(toLength: 19, withPad: " ", startingAt: 0) }.joined())
            }
        }
    }

    /// The atomic model (per-atom patches) on a planted site table: the seed's way (im2col, one
    /// structure at a time) against the batched steps on each backend.
    private func atomicTable(mpi: MPIEnvironment, peak: Double) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-bench-atomic-\(getpid()).csv")
        try (try PlantedTruth()).siteTable(count: 256, seed: 9).write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let structures = try StructureSource(path: file.path).load().structures
        print("\natomic (17×17 patches, one per atom), \(structures.count) planted structures, batch 32, Adam:")
        print(["backend", "steps", "samples/s", "GFLOP/s (% peak)", "against the first"].map { $0.padding(toLength: 19, withPad: " ", startingAt: 0) }.joined())
        var first: Double?
        for (backend, reproducible) in [(ConvolutionBackend.im2col, true), (.im2col, false), (.dnnl, true), (.dnnl, false)] {
            var plan = timingPlan(.atomic, epochs: 2)
            plan.convolutionBackend = backend
            plan.reproducible = reproducible
            setThreads(ProcessInfo.processInfo.activeProcessorCount, model: .atomic, backend: backend)
            let trained = try trainEnsemble(world: mpi.world, plan: plan, structures: structures)
            let rate = trained.metrics.last?.samplesPerSecond ?? 0
            let network = try Network(trained.members[0].description.architecture, convolutionBackend: backend)
            // Items per structure vary; multiply-adds per structure = per item × mean items.
            let items = Double(structures.map { $0.realAtoms.count }.reduce(0, +)) / Double(structures.count)
            let gflops = rate * items * 3 * 2 * Double(network.multiplyAddsPerItem) / 1e9
            first = first ?? rate
            print([backend.rawValue, reproducible ? "one by one" : "batched", String(format: "%.1f", rate),
                   String(format: "%.2f (%.1f %%)", gflops, 100 * gflops / peak), String(format: "%.2f×", rate / (first ?? rate))]
                .map { $0.padding(toLength: 19, withPad: " ", startingAt: 0) }.joined())
        }
    }

    private func kerasRate(grid: Int, steps: Int) -> Result<Double, ReferenceUnavailable> {
        runReference("keras_reference.py", ["ryczko", "\(grid)", "32", "\(steps)"], removing: openBLASVariables).flatMap { line in
            jsonNumber(line, "samples_per_second").map { .success($0) } ?? .failure(ReferenceUnavailable("no samples_per_second in its output"))
        }
    }

    /// Seed A's site network against Keras on the HEA table, when it is there.
    private func sitesLine(mpi: MPIEnvironment) throws {
        let heaPath = hea ?? ["../shared/data/hea_co2rr_sites.csv", "../../shared/data/hea_co2rr_sites.csv"]
            .first { FileManager.default.fileExists(atPath: $0) }
        guard let heaPath else { print("\nsites benchmark not run: no HEA site table (give --hea)"); return }
        var options = SiteTable.Options(skipInvalid: true)
        try options.select(group: "Adsorbate=COOH")
        let structures = try StructureSource(path: heaPath, siteOptions: options).load().structures
        var plan = TrainingPlan()
        plan.kind = .sites
        plan.epochs = siteEpochs
        plan.quiet = true
        plan.modelOptions.descriptors = try ElementDescriptors.lookUp(for: ["Fe", "Co", "Ni", "Cu", "Mo"])
        setBLASThreads(1)
        let start = Date()
        let trained = try trainEnsemble(world: mpi.world, plan: plan, structures: structures)
        let seconds = Date().timeIntervalSince(start)
        let mae = trained.members[0].description.training?.finalValidationMAE ?? .nan
        print("\nsites (seed A's network), \(structures.count) COOH rows, \(siteEpochs) epochs, batch 32, 15 % held out:")
        var line = String(format: "SiteLens %.2f s (test MAE %.4f eV)", seconds, mae)
        if !noReference {
            switch runReference("keras_reference.py", ["sites", heaPath, "\(siteEpochs)"], removing: openBLASVariables) {
            case .success(let text):
                if let keras = jsonNumber(text, "seconds") {
                    line += String(format: "   Keras %.2f s (test MAE %.4f eV)   SiteLens is %.1f× faster", keras, jsonNumber(text, "test_mae") ?? .nan, keras / seconds)
                }
            case .failure(let why): line += "   Keras not run: \(why.reason.prefix(80))"
            }
        }
        print(line)
    }
}

let openBLASVariables = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]

func jsonNumber(_ text: String, _ key: String) -> Double? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
    return (object[key] as? NSNumber)?.doubleValue
}
