import Basics
import Foundation
import Images
import Structures

/// `bench rasterise`: SiteLens's rasteriser at the seed's 256² configuration against the seed's
/// NumPy formula (`rasterise_numpy.py`), per atom count.
public struct RasteriserBenchmark: Sendable {
    public struct Configuration: Sendable {
        /// Atoms per structure, one row each.
        public var atomCounts = [2, 20, 200]
        /// Seconds spent on each measurement (at least three images each).
        public var seconds = 1.0
        public init() {}
    }

    public let configuration: Configuration
    public let references: ReferenceScripts
    public let log: BenchmarkLog

    public init(_ configuration: Configuration, references: ReferenceScripts, log: @escaping BenchmarkLog = printFlushed) {
        self.configuration = configuration
        self.references = references
        self.log = log
    }

    /// Measures each atom count, runs the reference, and prints and returns the table.
    public func run() throws -> BenchmarkTable {
        let counts = configuration.atomCounts
        let times = try counts.map(millisecondsPerImage)
        log("Rasteriser benchmark: 5 Å box, 256×256 pixels at linspace(0, 5, 256), σ = 0.2 Å, one channel, one thread")
        var numpyTimes: [String: Double] = [:]
        switch references.run("rasterise_numpy.py", [counts.map(String.init).joined(separator: ","), "\(configuration.seconds)"]) {
        case .success(let line): numpyTimes = (try? JSONDecoder().decode([String: Double].self, from: Data(line.utf8))) ?? [:]
        case .failure(let why): log("reference (the seed's NumPy formula) not run: \(why.reason)")
        }
        var table = BenchmarkTable(columns: ["atoms", "SiteLens ms/image", "SiteLens atoms/s", "NumPy ms/image", "speed-up"], width: 18)
        log(table.header)
        for (n, ms) in zip(counts, times) {
            let numpy = numpyTimes["\(n)"]
            log(table.append([String(n), String(format: "%.4f", ms), String(format: "%.3g", Double(n) / ms * 1000),
                              numpy.map { String(format: "%.3f", $0) } ?? "-", numpy.map { String(format: "%.0f×", $0 / ms) } ?? "-"]))
        }
        return table
    }

    /// Random structures of `atoms` carbon atoms rasterised for the configured time: ms per image.
    private func millisecondsPerImage(atoms n: Int) throws -> Double {
        let rasteriser = try Rasteriser(settings: .seedExample)
        var generator = SeededGenerator(seed: 42)
        var images = 0
        var checksum: Float = 0
        let start = Date()
        var elapsed = 0.0
        repeat {
            let structure = Structure(symbols: Array(repeating: "C", count: n),
                                      positions: (0..<n).map { _ in SIMD3(generator.uniform(0, 5), generator.uniform(0, 5), 0) })
            checksum += try rasteriser.image(of: structure).pixels[128 * 256 + 128]
            images += 1
            elapsed = Date().timeIntervalSince(start)
        } while elapsed < configuration.seconds || images < 3
        if checksum.isNaN { log("") }  // keeps the rasterising from being optimised away
        return 1000 * elapsed / Double(images)
    }
}
