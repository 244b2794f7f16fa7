import Foundation

/// Writes `data` to `url` through a temporary file in the same folder and a rename, so a reader
/// (or a crash) never sees a half-written file.
/// A failure says which file and the system's reason (a full disk, a read-only folder), not a
/// Foundation error code.
public func writeAtomically(_ data: Data, to url: URL) throws {
    try writeAtomically(to: url) { append in try append(data) }
}

/// `writeAtomically` for a file written piece by piece (`append` each piece), so a large file
/// never has to be held whole in memory; the same temporary file and rename.
public func writeAtomically(to url: URL, _ body: (_ append: (Data) throws -> Void) throws -> Void) throws {
    let folder = url.deletingLastPathComponent()
    do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
    catch { throw FileWriteError(path: url.path, reason: systemReason(error)) }
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent)\(temporaryMarker)\(getpid())-\(UUID().uuidString.prefix(8))")
    do {
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw FileWriteError(path: url.path, reason: String(cString: strerror(errno)))
        }
        let handle = try FileHandle(forWritingTo: temporary)
        defer { try? handle.close() }
        // The body's own errors pass through as they are; only the file's are translated.
        try body { piece in
            do { try handle.write(contentsOf: piece) } catch { throw FileWriteError(path: url.path, reason: systemReason(error)) }
        }
        do { try handle.synchronize() } catch { throw FileWriteError(path: url.path, reason: systemReason(error)) }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw error
    }
    if rename(temporary.path, url.path) != 0 {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw FileWriteError(path: url.path, reason: reason)
    }
}

private let temporaryMarker = ".tmp-"

/// Whether `name` is the temporary file of a `writeAtomically` (left behind only by a crash).
public func isAtomicWriteTemporary(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(temporaryMarker) }

/// A file that could not be written, and why.
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): cannot write the file: \(reason)" }
}

/// `writeAtomically` for text.
public func writeAtomically(_ text: String, to url: URL) throws {
    try writeAtomically(Data(text.utf8), to: url)
}
