import ArgumentParser
import Basics
import Foundation
import Images
import Networks
import Structures
import Training

/// `sitelens bench`: measured speed, printed beside the reference it is compared with.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print figures and ratios against a named reference, run side by side.",
        subcommands: [BenchRasterise.self, BenchTrain.self, BenchScaling.self, BenchOverlapRun.self, BenchMemory.self, BenchMemoryRun.self,
                       BenchIndexRun.self, BenchAccuracy.self])
}

/// This binary under `mpirun -np ranks` with `arguments` (oversubscribed only beyond the
/// cores, the root variables only for root, one OpenBLAS thread per rank), not yet started.
func mpirunThisBinary(ranks: Int, _ arguments: [String]) -> Process {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    let oversubscribe = ranks > ProcessInfo.processInfo.activeProcessorCount ? ["--oversubscribe"] : []
    process.arguments = ["mpirun", "-np", "\(ranks)"] + oversubscribe + ["-x", "OPENBLAS_NUM_THREADS=1", binary] + arguments
    var environment = ProcessInfo.processInfo.environment
    if getuid() == 0 { environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1" }
    process.environment = environment
    return process
}

/// The folder of reference scripts (`Launch/reference`), found from the binary or the working folder.
func referenceScriptsFolder() -> URL? {
    var candidates: [URL] = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
    var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    while directory.path != "/" {
        candidates.append(directory)
        directory = directory.deletingLastPathComponent()
    }
    return candidates.map { $0.appendingPathComponent("Launch/reference") }
        .first { FileManager.default.fileExists(atPath: $0.path) }
}

/// Runs a reference script with python3 and returns its last stdout line, or why it could not.
func runReference(_ script: String, _ arguments: [String], removing: [String] = []) -> Result<String, ReferenceUnavailable> {
    guard let folder = referenceScriptsFolder() else { return .failure(ReferenceUnavailable("Launch/reference not found")) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", folder.appendingPathComponent(script).path] + arguments
    var env = ProcessInfo.processInfo.environment
    for key in removing { env[key] = nil }
    process.environment = env
    // Stderr goes to a file, so a chatty reference cannot fill a pipe nobody reads yet.
    let errorLog = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-reference-\(getpid()).log")
    _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorLog) }
    let out = Pipe()
    process.standardOutput = out
    process.standardError = try? FileHandle(forWritingTo: errorLog)
    do { try process.run() } catch { return .failure(ReferenceUnavailable("cannot start python3: \(error)")) }
    let output = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let errors = FileManager.default.contents(atPath: errorLog.path) ?? Data()
    let text = String(decoding: output, as: UTF8.self)
    guard process.terminationStatus == 0, let last = text.split(separator: "\n").last else {
        let why = String(decoding: errors, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "exit \(process.terminationStatus)"
        return .failure(ReferenceUnavailable(why))
    }
    return .success(String(last))
}

struct ReferenceUnavailable: Error { let reason: String; init(_ reason: String) { self.reason = reason } }

/// `sitelens bench rasterise`: SiteLens's rasteriser against the seed's NumPy code.
struct BenchRasterise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rasterise",
        abstract: "ms/image and atoms/s at the seed's 256² configuration, beside the seed's NumPy formula.")

    @Option(help: "Atom counts, comma-separated.")
    var atoms = "2,20,200"

    @Option(help: "Seconds to spend on each measurement.")
    var seconds = 1.0

    func run() throws {
        let counts = atoms.split(separator: ",").compactMap { Int($0) }
        let rasteriser = try Rasteriser(settings: .seedExample)
        var generator = SeededGenerator(seed: 42)
        var swiftTimes: [Int: Double] = [:]
        for n in counts {
            var images = 0
            var checksum: Float = 0
            let start = Date()
            var elapsed = 0.0
            repeat {
                let s = Structure(symbols: Array(repeating: "C", count: n),
                                  positions: (0..<n).map { _ in SIMD3(generator.uniform(0, 5), generator.uniform(0, 5), 0) })
                checksum += try rasteriser.image(of: s).pixels[128 * 256 + 128]
                images += 1
                elapsed = Date().timeIntervalSince(start)
            } while elapsed < seconds || images < 3
            swiftTimes[n] = 1000 * elapsed / Double(images)
            _ = checksum
        }
        print("Rasteriser benchmark: 5 Å box, 256×256 pixels at linspace(0, 5, 256), σ = 0.2 Å, one channel, one thread")
        let reference = runReference("rasterise_numpy.py", [counts.map(String.init).joined(separator: ","), "\(seconds)"])
        var numpyTimes: [String: Double] = [:]
        switch reference {
        case .success(let line):
            numpyTimes = (try? JSONDecoder().decode([String: Double].self, from: Data(line.utf8))) ?? [:]
        case .failure(let why):
            print("reference (the seed's NumPy formula) not run: \(why.reason)")
        }
        let header = ["atoms", "SiteLens ms/image", "SiteLens atoms/s", "NumPy ms/image", "speed-up"]
        print(header.map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined())
        for n in counts {
            let ms = swiftTimes[n]!
            let numpy = numpyTimes["\(n)"]
            let row = [String(n), String(format: "%.4f", ms), String(format: "%.3g", Double(n) / ms * 1000),
                       numpy.map { String(format: "%.3f", $0) } ?? "-", numpy.map { String(format: "%.0f×", $0 / ms) } ?? "-"]
            print(row.map { $0.padding(toLength: 18, withPad: " ", startingAt: 0) }.joined())
        }
    }
}

/// A plan for timing, not learning: every structure trains (no validation or test set), quietly,
/// without checksums; the benchmarks set what they compare on top of it.
func timingPlan(_ kind: ModelKind, epochs: Int) -> TrainingPlan {
    var plan = TrainingPlan()
    plan.kind = kind
    plan.epochs = epochs
    plan.validationFraction = 0
    plan.testFraction = 0
    plan.quiet = true
    plan.checksumEvery = 0
    return plan
}
