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
        case decompositionMembersCSV = "decomposition-members.csv"
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
    /// A member's base name in `model/`: `member-K` (+ `weightsSuffix`, `descriptionSuffix`).
    public static func memberName(_ member: Int) -> String { "\(memberPrefix)\(member)" }
    private static let memberPrefix = "member-"
    /// A saved model's two files: its weights (safetensors) and its description (JSON).
    public static let weightsSuffix = ".safetensors", descriptionSuffix = ".json"
    private static let checkpointSuffix = ".ckpt", memberLogSuffix = ".metrics.jsonl"

    public func checkpoint(member: Int) -> URL {
        checkpointFolder.appendingPathComponent(RunFolder.memberName(member) + RunFolder.checkpointSuffix)
    }

    /// A member's own metrics log, appended as its epochs finish (`MetricsLog`).
    public func memberLog(member: Int) -> URL {
        checkpointFolder.appendingPathComponent(RunFolder.memberName(member) + RunFolder.memberLogSuffix)
    }

    /// The members saved in `model/`, in order (from their weight files).
    public func savedMembers() -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: modelFolder.path)) ?? []
        return names.compactMap { Self.member(named: $0, suffixes: [Self.weightsSuffix]) }.sorted()
    }

    /// K when `name` is `member-K` followed by one of `suffixes`, K ≥ 0.
    private static func member(named name: String, suffixes: [String]) -> Int? {
        for suffix in suffixes where name.hasPrefix(memberPrefix) && name.hasSuffix(suffix) {
            if let k = Int(name.dropFirst(memberPrefix.count).dropLast(suffix.count)), k >= 0 { return k }
        }
        return nil
    }

    var lockFile: URL { url.appendingPathComponent(RunFolder.lockName) }
    static let lockName = ".sitelens.lock"

    /// Where a run that replaces this one (`--overwrite`) is built: a hidden folder beside it, so
    /// the old run stays whole until the new one has finished. The same on every rank.
    public var replacement: RunFolder { sibling(suffix: "sitelens-replacement") }
    /// Where the old run waits, for a moment, while its replacement is moved in.
    var replaced: RunFolder { sibling(suffix: "sitelens-replaced") }

    private func sibling(suffix: String) -> RunFolder {
        RunFolder(url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(suffix)"))
    }

    // MARK: Rules

    /// How a training run may use its folder.
    public enum Claim: Sendable {
        /// The folder must be new or empty.
        case fresh
        /// The folder holds the run being continued.
        case resume
    }

    /// Takes the folder for a training run: creates it (its parent must exist), refuses a folder
    /// holding another run unless resuming, proves it writable, and holds the lock until the
    /// returned value is released.
    public func claim(_ claim: Claim) throws -> RunLock {
        try requireParent()
        _ = try existsAsFolder()
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false) }
        catch where FileManager.default.fileExists(atPath: url.path) {}
        catch { throw RunFolderError("cannot create the run folder \(path): \(systemReason(error))") }
        let lock = try RunLock(file: lockFile)
        if claim == .fresh {
            let present = contents()
            if !present.isEmpty, isFailedStart(present) { try removeFailedStart(present) }
            else if !present.isEmpty {
                throw RunFolderError("\(path) holds an earlier run (\(present.prefix(4).joined(separator: ", "))); "
                                     + "choose a new --run-dir, continue it with --resume, or replace it with --overwrite")
            }
        }
        for folder in [modelFolder, checkpointFolder] {
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            catch { throw RunFolderError("cannot write in the run folder \(path): \(systemReason(error))") }
        }
        return lock
    }

    /// A start that failed before training anything (bad data found after the claim): at most
    /// its record and the empty `model/` and `checkpoints/` the claim made. Nothing in it can be
    /// resumed or used, and keeping it would block the corrected command.
    private func isFailedStart(_ present: [String]) -> Bool {
        let made = [Output.record.rawValue, modelFolder.lastPathComponent, checkpointFolder.lastPathComponent]
        func isEmpty(_ folder: URL) -> Bool { ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).isEmpty }
        return present.allSatisfy(made.contains) && isEmpty(modelFolder) && isEmpty(checkpointFolder)
    }

    private func removeFailedStart(_ present: [String]) throws {
        for name in present {
            do { try FileManager.default.removeItem(at: url.appendingPathComponent(name)) }
            catch { throw RunFolderError("cannot remove \(name) of a failed start in \(path): \(systemReason(error))") }
        }
    }

    /// Takes the folder for a run that will replace what it holds (`--overwrite`), touching none
    /// of it: refuses the current folder or one above it, a folder holding any of `inputs`, and a
    /// folder holding anything a SiteLens run does not write; `isRun` must accept its `run.json`.
    /// Locks it and claims `replacement`, fresh, where the new run is built; `replace(with:)`
    /// moves that in once the new run has finished.
    public func claimForReplacement(inputs: [URL], isRun: (RunFolder) throws -> Void) throws -> (target: RunLock, replacement: RunLock) {
        try requireParent()
        let resolved = url.resolvingSymlinksInPath().path
        let current = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).resolvingSymlinksInPath().path
        if Self.path(current, isWithin: resolved) {
            throw RunFolderError("--overwrite refuses \(path): it is the current folder or holds it; give the run its own --run-dir")
        }
        for input in inputs where Self.path(input.resolvingSymlinksInPath().path, isWithin: resolved) {
            throw RunFolderError("--overwrite refuses \(path): it holds the input \(input.path); give the run its own --run-dir")
        }
        if FileManager.default.fileExists(atPath: replaced.path) {
            throw RunFolderError("an earlier --overwrite of \(path) was interrupted while swapping: the old run is in \(replaced.path)"
                                 + (FileManager.default.fileExists(atPath: path) ? "" : " and the new one in \(replacement.path)")
                                 + "; keep what you need and remove \(replaced.path)")
        }
        var targetLock: RunLock?
        if try existsAsFolder() {
            targetLock = try RunLock(file: lockFile)
            if !contents().isEmpty {
                let foreign = foreignEntries()
                guard foreign.isEmpty else {
                    throw RunFolderError("--overwrite refuses \(path): it holds files a SiteLens run does not write ("
                                         + foreign.prefix(4).joined(separator: ", ") + (foreign.count > 4 ? ", ..." : "")
                                         + "); move them, or give the run another --run-dir")
                }
                try isRun(self)
            }
        }
        // A replacement left by a failed --overwrite holds only that failed run's files.
        if FileManager.default.fileExists(atPath: replacement.path) {
            let foreign = replacement.foreignEntries()
            guard foreign.isEmpty else {
                throw RunFolderError("\(replacement.path) (where --overwrite builds the new run) holds files a SiteLens run does not write "
                                     + "(\(foreign.prefix(4).joined(separator: ", "))); move it away")
            }
            let staleLock = try RunLock(file: replacement.lockFile)  // refuses one still in use
            do { try FileManager.default.removeItem(at: replacement.url) }
            catch { throw RunFolderError("cannot remove the unfinished replacement \(replacement.path): \(systemReason(error))") }
            staleLock.forget()
        }
        let replacementLock = try replacement.claim(.fresh)
        return (targetLock ?? RunLock.none(), replacementLock)
    }

    /// Puts the finished run in `replacement` in this folder's place, then removes the old run.
    /// The old run is whole until the new one is in place; a crash between the two renames
    /// leaves both, named, and the next `--overwrite` says where.
    public func replace(with replacement: RunFolder, locks: (target: RunLock, replacement: RunLock)) throws {
        locks.replacement.release()
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: path) {
            guard Glibc.rename(path, replaced.path) == 0 else {
                throw RunFolderError("cannot move the old run \(path) aside to \(replaced.path): \(String(cString: strerror(errno))); "
                                     + "the new run is whole in \(replacement.path)")
            }
            locks.target.forget()  // its file went with the old run
        }
        guard Glibc.rename(replacement.path, path) == 0 else {
            throw RunFolderError("cannot move the new run \(replacement.path) to \(path): \(String(cString: strerror(errno))); "
                                 + "the old run is whole in \(replaced.path)")
        }
        if fileManager.fileExists(atPath: replaced.path) {
            do { try fileManager.removeItem(at: replaced.url) }
            catch { throw RunFolderError("the new run is in \(path), but the old one could not be removed from \(replaced.path): \(systemReason(error))") }
        }
    }

    /// Makes the folder for outputs written outside a training run (`decompose --out`): only the
    /// folder itself is created, never missing parents.
    public func createForOutputs() throws {
        do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false) }
        catch where FileManager.default.fileExists(atPath: url.path) {}
        catch { throw RunFolderError("cannot create the output folder \(path): \(systemReason(error))") }
    }

    /// The files `sitelens screen` writes into its output folder.
    public enum ScreenOutput: String, CaseIterable, Sendable {
        case top = "top.csv"
        case topContributions = "top-contributions.csv"
        case histogram = "histogram.csv"
        case scalingSVG = "scaling.svg"
        case summary = "screen.json"
    }

    public func file(_ output: ScreenOutput) -> URL { url.appendingPathComponent(output.rawValue) }

    /// Takes the folder for a screen's outputs (its parent must exist) and locks it. A folder
    /// holding an earlier screen is refused unless `overwrite`; then its screen files are removed
    /// first (so no file of the old screen stays beside the new), and a folder holding anything
    /// else (a training run, a user's files) is always refused.
    public func claimForScreen(overwrite: Bool) throws -> RunLock {
        try requireParent()
        _ = try existsAsFolder()
        try createForOutputs()
        let lock = try RunLock(file: lockFile)
        let present = contents()
        guard !present.isEmpty else { return lock }
        let screenFiles = Set(ScreenOutput.allCases.map(\.rawValue))
        let foreign = present.filter { !screenFiles.contains($0) && !isAtomicWriteTemporary($0) }
        guard foreign.isEmpty else {
            throw RunFolderError("\(path) holds files a screen does not write (\(foreign.prefix(4).joined(separator: ", "))); give the screen its own --out")
        }
        guard overwrite else {
            throw RunFolderError("\(path) holds an earlier screen (\(present.prefix(4).joined(separator: ", "))); choose a new --out or replace it with --overwrite")
        }
        for name in present {
            do { try FileManager.default.removeItem(at: url.appendingPathComponent(name)) }
            catch { throw RunFolderError("cannot remove \(name) of the earlier screen in \(path): \(systemReason(error))") }
        }
        return lock
    }

    /// What the folder holds, the lock file aside.
    private func contents() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0 != RunFolder.lockName }.sorted()
    }

    /// What the folder holds that a SiteLens run does not write, as paths inside it: anything
    /// but the outputs, `model/` and `checkpoints/` with member files, the lock and the
    /// temporary files of an interrupted write.
    func foreignEntries() -> [String] {
        let fileManager = FileManager.default
        func isMemberFile(_ name: String, suffixes: [String]) -> Bool { Self.member(named: name, suffixes: suffixes) != nil }
        func isTemporary(_ name: String) -> Bool { isAtomicWriteTemporary(name) }
        func foreign(in folder: URL, label: String, allowed: (String) -> Bool) -> [String] {
            var isFolder: ObjCBool = false
            guard fileManager.fileExists(atPath: folder.path, isDirectory: &isFolder) else { return [] }
            guard isFolder.boolValue else { return [label] }
            let names = (try? fileManager.contentsOfDirectory(atPath: folder.path)) ?? ["(unreadable)"]
            return names.sorted().filter { name in
                var isSubfolder: ObjCBool = false
                _ = fileManager.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isSubfolder)
                return isSubfolder.boolValue || !(allowed(name) || isTemporary(name))
            }.map { "\(label)/\($0)" }
        }
        let outputs = Set(Output.allCases.map(\.rawValue))
        var found = ((try? fileManager.contentsOfDirectory(atPath: url.path)) ?? []).sorted().filter { name in
            guard !["model", "checkpoints", RunFolder.lockName].contains(name) else { return false }
            var isSubfolder: ObjCBool = false
            _ = fileManager.fileExists(atPath: url.appendingPathComponent(name).path, isDirectory: &isSubfolder)
            return isSubfolder.boolValue || !(outputs.contains(name) || isTemporary(name))
        }
        found += foreign(in: modelFolder, label: "model") { isMemberFile($0, suffixes: [Self.weightsSuffix, Self.descriptionSuffix]) }
        found += foreign(in: checkpointFolder, label: "checkpoints") { isMemberFile($0, suffixes: [Self.checkpointSuffix, Self.memberLogSuffix]) }
        return found
    }

    /// Whether `path` is `folder` or lies inside it (both resolved, absolute).
    static func path(_ path: String, isWithin folder: String) -> Bool {
        path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }

    /// Whether the folder exists; an error when a file stands where it should be.
    private func existsAsFolder() throws -> Bool {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else { return false }
        guard isFolder.boolValue else { throw RunFolderError("\(path) is a file, not a run folder") }
        return true
    }

    private func requireParent() throws {
        let parent = url.deletingLastPathComponent()
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw RunFolderError("the parent folder \(parent.path) of the run folder does not exist; create it first")
        }
    }
}

/// The lock a run holds on its folder while it writes: a file naming host, process and the
/// process's start time, created exclusively, removed on release. A second run fails at once
/// naming the first; a lock left by a process that no longer runs on this host is taken over.
/// The start time tells a live holder from a new process that got its PID again (a job's PID
/// namespace made anew, as on namespace nodes, hands out the same small PIDs).
public final class RunLock: @unchecked Sendable {
    private let file: URL?
    /// True only once the file is created: a lock that was refused must not remove the holder's.
    private var held = false
    private let owner = "\(hostName()) \(getpid()) \(RunLock.startTime(of: getpid()).map(String.init) ?? "?")\n"

    /// A lock on nothing (a folder that did not exist yet): releasing it does nothing.
    static func none() -> RunLock { RunLock() }
    private init() { file = nil }

    init(file: URL) throws {
        self.file = file
        for _ in 0..<2 {
            let descriptor = open(file.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            if descriptor >= 0 {
                _ = owner.withCString { write(descriptor, $0, strlen($0)) }
                close(descriptor)
                held = true
                return
            }
            guard errno == EEXIST else {
                throw RunFolderError("cannot write in the run folder \(file.deletingLastPathComponent().path): \(String(cString: strerror(errno)))")
            }
            let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            let parts = text.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if (2...3).contains(parts.count), parts[0] == hostName(), let pid = Int32(parts[1]),
               Self.processIsGone(pid, startedAt: parts.count == 3 ? UInt64(parts[2]) : nil) {
                try? FileManager.default.removeItem(at: file)  // stale: its process is gone
                continue
            }
            throw RunFolderError("the run folder \(file.deletingLastPathComponent().path) is in use by another run "
                                 + "(host \(parts.first ?? "?"), pid \(parts.count > 1 ? parts[1] : "?")); if no such run is going on, remove \(file.path)")
        }
        throw RunFolderError("cannot take the lock \(file.path)")
    }

    /// True when the process `pid` that started at `startedAt` (clock ticks after boot; nil:
    /// any) no longer runs on this host: none exists, only its zombie does (a killed run whose
    /// parent has not yet collected it holds nothing), or another process has its PID now.
    static func processIsGone(_ pid: Int32, startedAt: UInt64? = nil) -> Bool {
        if kill(pid, 0) != 0 { return errno == ESRCH }
        guard let fields = statFields(of: pid) else { return false }
        if fields.first == "Z" { return true }
        if let startedAt, let now = startTime(of: pid) { return now != startedAt }
        return false
    }

    /// A process's start time, clock ticks after boot (field 22 of /proc/PID/stat).
    static func startTime(of pid: Int32) -> UInt64? {
        guard let fields = statFields(of: pid), fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }

    /// The fields of /proc/PID/stat after the name, from the state (field 3) on. The name,
    /// "(...)", may hold spaces; the state follows its last ')'.
    private static func statFields(of pid: Int32) -> [Substring]? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ")
    }

    /// Removes the lock file, when it is still this process's (also done when the value goes away).
    public func release() {
        guard held, let file else { return }
        held = false
        if (try? String(contentsOf: file, encoding: .utf8)) == owner { try? FileManager.default.removeItem(at: file) }
    }

    /// Lets the lock go without touching its file: the folder holding it was moved or removed.
    func forget() { held = false }

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
