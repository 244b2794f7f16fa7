import Foundation

/// The reference implementations the benchmarks compare with (the seed's NumPy rasteriser,
/// Keras): Python scripts in `Launch/reference`, run with python3.
public struct ReferenceScripts: Sendable {
    /// The folder holding the scripts, or nil when neither the working folder nor a folder above
    /// the executable holds `Launch/reference`.
    public let folder: URL?

    /// Looks for `Launch/reference` in the working folder, then beside the executable and each
    /// folder above it.
    public init(near executable: URL) {
        var candidates = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath)]
        var directory = executable.deletingLastPathComponent()
        while directory.path != "/" {
            candidates.append(directory)
            directory = directory.deletingLastPathComponent()
        }
        folder = candidates.map { $0.appendingPathComponent("Launch/reference") }
            .first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// OpenBLAS tuning variables that TensorFlow does not read: unset for the Keras scripts.
    static let openBLASVariables = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"]

    /// Runs `script` with python3 and returns its last stdout line, or why it could not.
    func run(_ script: String, _ arguments: [String], removing: [String] = []) -> Result<String, ReferenceUnavailable> {
        guard let folder else { return .failure(ReferenceUnavailable("Launch/reference not found")) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", folder.appendingPathComponent(script).path] + arguments
        var environment = ProcessInfo.processInfo.environment
        for key in removing { environment[key] = nil }
        process.environment = environment
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

    /// The number under `key` in a one-line JSON object, or nil.
    static func number(_ text: String, _ key: String) -> Double? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return nil }
        return (object[key] as? NSNumber)?.doubleValue
    }
}

/// Why a reference was not run (no python3, no script, no package, its error).
public struct ReferenceUnavailable: Error, Sendable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
}
