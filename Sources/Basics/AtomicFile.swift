import Foundation

/// Writes `data` to `url` through a temporary file in the same folder and a rename, so a reader
/// (or a crash) never sees a half-written file.
public func writeAtomically(_ data: Data, to url: URL) throws {
    let folder = url.deletingLastPathComponent()
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UUID().uuidString.prefix(8))")
    do {
        try data.write(to: temporary)
        if rename(temporary.path, url.path) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path,
                NSLocalizedDescriptionKey: "cannot rename \(temporary.path) to \(url.path): \(String(cString: strerror(errno)))"])
        }
    } catch {
        try? FileManager.default.removeItem(at: temporary)
        throw error
    }
}

/// `writeAtomically` for text.
public func writeAtomically(_ text: String, to url: URL) throws {
    try writeAtomically(Data(text.utf8), to: url)
}
