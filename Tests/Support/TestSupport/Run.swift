import Foundation

/// What a finished child process left behind.
public struct ProcessOutcome: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public let seconds: Double
    public let timedOut: Bool
}

/// Where `swift build` put this package's executables (the test bundle sits beside them).
/// The `sitelens` executable the tests run (built beside the test binary).
public let sitelens = buildProductsDirectory().appendingPathComponent("sitelens").path

public func buildProductsDirectory() -> URL {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = here.deletingLastPathComponent()
    // The test binary lives inside `<products>/X.xctest` on some platforms.
    while directory.path != "/" {
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("sitelens").path)
            || FileManager.default.fileExists(atPath: directory.appendingPathComponent("mpi-test-helper").path) {
            return directory
        }
        directory = directory.deletingLastPathComponent()
    }
    return here.deletingLastPathComponent()
}

/// The root of the repository (for `../shared` and Launch scripts).
public func repositoryRoot(file: String = #filePath) -> URL {
    var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
    while directory.path != "/" {
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) { return directory }
        directory = directory.deletingLastPathComponent()
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}

/// Runs a program to completion (or kills it after `timeout` seconds), capturing both streams.
public func runProcess(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
                       directory: URL? = nil, timeout: Double = 120) throws -> ProcessOutcome {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
    for url in [outURL, errURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.hasPrefix("/") ? executable : "/usr/bin/env")
    process.arguments = executable.hasPrefix("/") ? arguments : [executable] + arguments
    // A test process that ran MPI as a singleton carries Open MPI's own variables; a child
    // mpirun that inherits them takes itself for a rank of that singleton and fails.
    var environment = ProcessInfo.processInfo.environment.filter { key, _ in
        let launcherState = ["OMPI_", "PMIX_", "OPAL_", "ORTE_"].contains { key.hasPrefix($0) }
        return !launcherState || key.hasPrefix("OMPI_ALLOW_RUN_AS_ROOT")
    }
    for (key, value) in extra { environment[key] = value }
    process.environment = environment
    if let directory { process.currentDirectoryURL = directory }
    process.standardOutput = out
    process.standardError = err
    let start = Date()
    try process.run()
    var timedOut = false
    while process.isRunning {
        if Date().timeIntervalSince(start) > timeout {
            timedOut = true
            process.terminate()
            Thread.sleep(forTimeInterval: 2)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            break
        }
        Thread.sleep(forTimeInterval: 0.02)
    }
    process.waitUntilExit()
    try out.close(); try err.close()
    return ProcessOutcome(
        status: process.terminationStatus,
        stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
        seconds: Date().timeIntervalSince(start), timedOut: timedOut)
}

/// Starts `executable` on `ranks` processes with the system's mpirun, as a user would:
/// `--oversubscribe` only when ranks exceed cores, the root variables only for root.
public func mpirun(_ ranks: Int, _ executable: String, _ arguments: [String], environment: [String: String] = [:],
                   directory: URL? = nil, timeout: Double = 300) throws -> ProcessOutcome {
    var launch = ["-np", "\(ranks)"]
    if ranks > ProcessInfo.processInfo.activeProcessorCount { launch.append("--oversubscribe") }
    var extra = environment
    if getuid() == 0 {
        extra["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        extra["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    }
    // One BLAS thread per rank: ranks already fill the cores.
    if extra["OPENBLAS_NUM_THREADS"] == nil { extra["OPENBLAS_NUM_THREADS"] = "1" }
    return try runProcess("mpirun", launch + [executable] + arguments, environment: extra, directory: directory, timeout: timeout)
}

/// Parses the helper lines `key=value key=value ...` into dictionaries.
public func keyValueLines(_ text: String, requiring key: String) -> [[String: String]] {
    text.split(separator: "\n").compactMap { line in
        var fields: [String: String] = [:]
        for part in line.split(separator: " ") {
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if pieces.count == 2 { fields[String(pieces[0])] = String(pieces[1]) }
        }
        return fields[key] == nil ? nil : fields
    }
}

/// A finished run's test MAE, eV, of its ensemble and of predicting the training mean, from its
/// test-metrics.json (nil where the file or the figure is missing).
public func testMAEs(ofRun run: URL) -> (model: Double?, mean: Double?) {
    let metrics = (try? Data(contentsOf: run.appendingPathComponent("test-metrics.json")))
        .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    func mae(_ key: String) -> Double? { (metrics?[key] as? [String: Any])?["mae"] as? Double }
    return (mae("ensembleMean"), mae("meanBaseline"))
}
