import ArgumentParser
import Foundation
import Images
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

    @Flag(help: "Skip the Keras references.")
    var noReference = false

    func run() throws {
        try withMPI { mpi in
            let cores = ProcessInfo.processInfo.activeProcessorCount
            setBLASThreads(cores)
            print("Training benchmark: one process, \(cores) BLAS threads (OpenBLAS kernels: \(blasCoreName())); Keras/TensorFlow with its defaults on the same cores.")
            if blasCoreName() == "Prescott" {
                print("warning: OpenBLAS uses its generic kernels here; set OPENBLAS_CORETYPE (the Launch scripts do) for several times the speed.")
            }
            print("(TensorFlow does not read OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE; they are unset for the Keras commands only.)")
            let stepTable = Dictionary(uniqueKeysWithValues: steps.split(separator: ",").compactMap { pair -> (Int, Int)? in
                let parts = pair.split(separator: ":").compactMap { Int($0) }
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            })
            print("\nryczko (seed B's CNN), batch 32, Adam:")
            print(["grid", "SiteLens samples/s", "GFLOP/s", "Keras samples/s", "ratio"].map { $0.padding(toLength: 20, withPad: " ", startingAt: 0) }.joined())
            for grid in grids.split(separator: ",").compactMap({ Int($0) }) {
                let stepCount = stepTable[grid] ?? 2
                let structures = LennardJonesClusters.generate(count: 32 * stepCount, seed: 5)
                var plan = TrainingPlan()
                plan.kind = .ryczko
                plan.epochs = 2
                plan.validationFraction = 0
                plan.quiet = true
                plan.checksumEvery = 0
                // The seed's 5 Å box and σ at this grid size, one channel.
                plan.modelOptions.raster = RasterSettings(gridSize: grid, extent: 5, sigma: 0.2)
                let trained = try trainEnsemble(world: mpi.world, plan: plan, structures: structures)
                let rate = trained.metrics.last?.samplesPerSecond ?? 0
                let network = trained.members[0].network
                let gflops = rate * 3 * 2 * Double(network.multiplyAddsPerItem) / 1e9
                var keras = "-", ratio = "-"
                if !noReference {
                    switch runReference("keras_reference.py", ["ryczko", "\(grid)", "32", "\(stepCount)"], removing: openBLASVariables) {
                    case .success(let line):
                        if let value = jsonNumber(line, "samples_per_second") {
                            keras = String(format: "%.2f", value)
                            ratio = String(format: "%.2f×", rate / value)
                        }
                    case .failure(let why): keras = "not run: \(why.reason.prefix(60))"
                    }
                }
                print(["\(grid)", String(format: "%.2f", rate), String(format: "%.1f", gflops), keras, ratio]
                    .map { $0.padding(toLength: 20, withPad: " ", startingAt: 0) }.joined())
            }

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
}

let openBLASVariables = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]

func jsonNumber(_ text: String, _ key: String) -> Double? {
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
    return (object[key] as? NSNumber)?.doubleValue
}
