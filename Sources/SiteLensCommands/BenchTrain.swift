import ArgumentParser
import Benchmarks
import Foundation
import Networks

/// `sitelens bench train`: training speed of the seed models against the same models in Keras;
/// `TrainingSpeedBenchmark` says how.
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

    @Option(help: "Convolution backends to time side by side, comma-separated (\(ConvolutionBackend.allCases.map(\.rawValue).joined(separator: ", "))).")
    var convBackends = TrainingSpeedBenchmark.Configuration().backends.map(\.rawValue).joined(separator: ",")

    @Option(help: "Convolution precisions to time side by side on each backend that takes them, comma-separated (fp32, bf16: dnnl on a CPU with AVX512_BF16 or AMX).")
    var precisions = TrainingSpeedBenchmark.Configuration().precisions.map(\.rawValue).joined(separator: ",")

    @Flag(help: "Skip the Keras references.")
    var noReference = false

    /// Hidden: tests make the atomic table small.
    @Option(help: .hidden)
    var atomicStructures = TrainingSpeedBenchmark.Configuration().atomicStructures

    func validate() throws {
        _ = try benchmarkConfiguration()
    }

    private func benchmarkConfiguration() throws -> TrainingSpeedBenchmark.Configuration {
        var configuration = TrainingSpeedBenchmark.Configuration()
        configuration.grids = try commaSeparated(grids, option: "--grids", expecting: "a grid in 4...4096") { Int($0).flatMap { (4...4096).contains($0) ? $0 : nil } }
        let pairs = try commaSeparated(steps, option: "--steps", expecting: "a GRID:STEPS pair of positive numbers") { pair -> (Int, Int)? in
            let parts = pair.split(separator: ":").compactMap { Int($0) }
            return parts.count == 2 && parts.allSatisfy { $0 > 0 } ? (parts[0], parts[1]) : nil
        }
        configuration.stepsPerGrid = Dictionary(pairs, uniquingKeysWith: { _, last in last })
        configuration.hea = hea
        guard (1...1_000_000).contains(siteEpochs) else { throw ValidationError("--site-epochs must be in 1...1000000, got \(siteEpochs)") }
        configuration.siteEpochs = siteEpochs
        configuration.backends = try commaSeparated(convBackends, option: "--conv-backends",
                                                    expecting: "one of \(ConvolutionBackend.allCases.map(\.rawValue).joined(separator: ", "))") {
            ConvolutionBackend(rawValue: $0)
        }
        configuration.precisions = try commaSeparated(precisions, option: "--precisions",
                                                      expecting: "one of \(ConvolutionPrecision.allCases.map(\.rawValue).joined(separator: ", "))") {
            ConvolutionPrecision(rawValue: $0)
        }
        for precision in configuration.precisions where !configuration.backends.contains(where: { $0.refusal(of: precision) == nil }) {
            throw ValidationError("--precisions \(precision): " + (configuration.backends.lazy.compactMap { $0.refusal(of: precision) }.first ?? "no backend takes it"))
        }
        configuration.runsReferences = !noReference
        guard (32...100_000).contains(atomicStructures) else { throw ValidationError("--atomic-structures must be in 32...100000") }
        configuration.atomicStructures = atomicStructures
        return configuration
    }

    func run() throws {
        let configuration = try benchmarkConfiguration()
        try withMPI { mpi in _ = try TrainingSpeedBenchmark(configuration, references: referenceScripts).run(world: mpi.world) }
    }
}
