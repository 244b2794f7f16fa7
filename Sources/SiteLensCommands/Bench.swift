import ArgumentParser
import Benchmarks
import Foundation

/// `sitelens bench`: measured speed, printed beside the reference it is compared with. Each
/// subcommand parses its options into a benchmark's configuration (the `Benchmarks` target)
/// and runs it.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print figures and ratios against a named reference, run side by side.",
        subcommands: [BenchRasterise.self, BenchTrain.self, BenchScaling.self, BenchOverlapRun.self, BenchMemory.self, BenchMemoryRun.self,
                       BenchIndexRun.self, BenchAccuracy.self, BenchCluster.self, BenchClusterRun.self])
}

/// The running `sitelens` and the reference scripts found from it.
let thisExecutable = SiteLensLauncher.runningExecutable()
var referenceScripts: ReferenceScripts { ReferenceScripts(near: thisExecutable.executable) }

/// Comma-separated values of `option`, each parsed by `parse`; an error naming the option and
/// the value that is not one.
func commaSeparated<T>(_ text: String, option: String, expecting: String, _ parse: (String) -> T?) throws -> [T] {
    try text.split(separator: ",").map { piece in
        guard let value = parse(String(piece)) else { throw ValidationError("\(option): '\(piece)' is not \(expecting)") }
        return value
    }
}

/// `sitelens bench rasterise`: SiteLens's rasteriser against the seed's NumPy code.
struct BenchRasterise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rasterise",
        abstract: "ms/image and atoms/s at the seed's 256² configuration, beside the seed's NumPy formula.")

    @Option(help: "Atom counts, comma-separated.")
    var atoms = "2,20,200"

    @Option(help: "Seconds to spend on each measurement.")
    var seconds = 1.0

    func validate() throws {
        _ = try counts()
        guard seconds.isFinite, (0...3600).contains(seconds) else { throw ValidationError("--seconds must be in 0...3600, got \(seconds)") }
    }

    private func counts() throws -> [Int] {
        try commaSeparated(atoms, option: "--atoms", expecting: "an atom count in 1...100000") { Int($0).flatMap { (1...100_000).contains($0) ? $0 : nil } }
    }

    func run() throws {
        var configuration = RasteriserBenchmark.Configuration()
        configuration.atomCounts = try counts()
        configuration.seconds = seconds
        _ = try RasteriserBenchmark(configuration, references: referenceScripts).run()
    }
}
