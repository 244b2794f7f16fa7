import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A run's folder: where each of its files goes (the one owner of that layout) and the rules
/// that keep one run's results from being overwritten by, or mixed with, another's.
///
/// Layout: `model/member-K.safetensors` + `.json`, `checkpoints/member-K.ckpt`, `run.json` (what
/// defines the run, and whether it finished), `metrics.jsonl`, the tables and plots named by
/// `Output`, and `.sitelens.lock` while a run writes.
public struct RunFolder: Sendable, Equatable {
    public let url: URL

    public init(_ url: URL) { self.url = url.standardizedFileURL }
    public init(path: String) { self.init(URL(fileURLWithPath: path)) }

    public var path: String { url.path }

    // MARK: Layout

    /// The files a run writes besides its members and checkpoints.
    public enum Output: String, CaseIterable, Sendable {
        case record = "run.json"
        case metrics = "metrics.jsonl"
        case decompositionCSV = "decomposition.csv"
        case decompositionJSON = "decomposition.json"
        case siteInfluenceCSV = "site-influence.csv"
        case siteInfluenceSVG = "site-influence.svg"
        case elementSiteSVG = "element-site.svg"
        case paritySVG = "parity.svg"
        case learningCurveSVG = "learning-curve.svg"
        case predictionsCSV = "predictions.csv"
        case testMetrics = "test-metrics.json"
        case contributionsXYZ = "contributions.xyz"
    }

    public func file(_ output: Output) -> URL { url.appendingPathComponent(output.rawValue) }

    public var modelFolder: URL { url.appendingPathComponent("model") }
    public var checkpointFolder: URL { url.appendingPathComponent("checkpoints") }
    /// A member's base name in `model/`: `member-K` (+ `.safetensors`, `.json`).
    public static func memberName(_ member: Int) -> String { "member-\(member)" }
    public func checkpoint(member: Int) -> URL {
        checkpointFolder.appendingPathComponent("\(RunFolder.memberName(member)).ckpt")
    }

    /// The members saved in `model/`, in order (from their weight files).
    public func savedMembers() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: modelFolder.path)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("member-"), name.hasSuffix(".safetensors") else { return nil }
            return Int(name.dropFirst("member-".count).dropLast(".safetensors".count))
        }.sorted()
    }

    var lockFile: URL { url.appendingPathComponent(".sitelens.lock") }

    /// Whether the folder holds anything of a run (or anything at all).
    public var holdsFiles: Bool {
        !((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).isEmpty
    }

    // MARK: Rules

    /// How a training run may use its folder.
    public enum Claim: Sendable {
        /// The folder must be new or empty.
        case fresh
        /// The folder holds the run being continued.
        case resume
        /// An earlier run's files are removed first (asked for with --overwrite).
        case overwrite
    }

    /// Takes the folder for a training run: creates it (its parent must exist), refuses a folder
    /// holding another run unless resuming or overwriting, proves it writable, and holds the lock
    /// until the returned value is released.
    public func claim(_ claim: Claim) throws -> RunLock {
        let parent = url.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw RunFolderError("the parent folder \(parent.path) of the run folder does not exist; create it first")
        }
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw RunFolderError("\(path) is a file, not a run folder")
        }
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false) }
        catch where FileManager.default.fileExists(atPath: url.path) {}
        catch { throw RunFolderError("cannot create the run folder \(path): \(systemReason(error))") }
        let lock = try RunLock(file: lockFile)
        switch claim {
        case .fresh:
            let present = contents()
            guard present.isEmpty else {
                throw RunFolderError("\(path) holds an earlier run (\(present.prefix(4).joined(separator: ", "))); "
                                     + "choose a new --run-dir, continue it with --resume, or replace it with --overwrite")
            }
        case .resume:
            break
        case .overwrite:
            for name in contents() { try FileManager.default.removeItem(at: url.appendingPathComponent(name)) }
        }
        for folder in [modelFolder, checkpointFolder] {
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            catch { throw RunFolderError("cannot write in the run folder \(path): \(systemReason(error))") }
        }
        return lock
    }

    /// Makes the folder for outputs written outside a training run (`decompose --out`): only the
    /// folder itself is created, never missing parents.
    public func createForOutputs() throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false) }
        catch where FileManager.default.fileExists(atPath: url.path) {}
        catch { throw RunFolderError("cannot create the output folder \(path): \(systemReason(error))") }
    }

    /// What the folder holds, the lock file aside.
    private func contents() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0 != lockFile.lastPathComponent }.sorted()
    }
}

/// The lock a run holds on its folder while it writes: a file naming host and process, created
/// exclusively, removed on release. A second run fails at once naming the first; a lock left
/// by a process that no longer runs on this host is taken over.
public final class RunLock: @unchecked Sendable {
    private let file: URL
    private var held = true

    init(file: URL) throws {
        self.file = file
        let owner = "\(hostName()) \(getpid())\n"
        for _ in 0..<2 {
            let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if descriptor >= 0 {
                _ = owner.withCString { write(descriptor, $0, strlen($0)) }
                close(descriptor)
                return
            }
            guard errno == EEXIST else {
                throw RunFolderError("cannot write in the run folder \(file.deletingLastPathComponent().path): \(String(cString: strerror(errno)))")
            }
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            let parts = text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if parts.count == 2, parts[0] == hostName(), let pid = Int32(parts[1]), Self.processIsGone(pid) {
                try? FileManager.default.removeItem(at: file)  // stale: its process is gone
                continue
            }
            throw RunFolderError("the run folder \(file.deletingLastPathComponent().path) is in use by another run "
                                 + "(host \(parts.first ?? "?"), pid \(parts.count > 1 ? parts[1] : "?")); if no such run is going on, remove \(file.path)")
        }
        throw RunFolderError("cannot take the lock \(file.path)")
    }

    /// True when no process `pid` runs on this host: none exists, or only its zombie does (a
    /// killed run whose parent has not yet collected it holds nothing).
    static func processIsGone(_ pid: Int32) -> Bool {
        if kill(pid, 0) != 0 { return errno == ESRCH }
        // /proc/PID/stat: "PID (name) STATE ..."; the name may hold spaces, the state follows its last ')'.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first == "Z"
    }

    /// Removes the lock file (also done when the value goes away).
    public func release() {
        guard held else { return }
        held = false
        try? FileManager.default.removeItem(at: file)
    }

    deinit { release() }
}

/// A run folder that cannot be used as asked.
public struct RunFolderError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// This machine's host name.
public func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The system's reason inside a Foundation file error, without Cocoa domain codes.
public func systemReason(_ error: Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if nsError.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(nsError.code))) }
    return nsError.localizedDescription
}
