import Foundation

/// Which SiteLens this is: the release number kept here (the one place it is written), and,
/// when the executable sits inside a git checkout (a clone built with `swift build`, as in CI
/// and the Launch scripts), the checkout's commit and any tag on it, read from `.git` at run
/// time. SwiftPM has no build step that could stamp the commit into the binary without a
/// plugin, and spawning `git` under MPI risks fork trouble, so the files are read directly.
///
/// Limits: a binary copied out of its checkout reports only the release number; the commit is
/// the checkout's when the command runs, so checking out another commit without rebuilding is
/// flagged ("checkout newer than the build") only by the files' times, and uncommitted edits
/// are not seen; annotated tags are found only through `packed-refs` or when the loose tag
/// file names the commit itself.
public enum SiteLensVersion {
    /// The release number, raised by hand at each release.
    public static let release = "0.1.0"

    /// `sitelens --version`'s line and `run.json`'s `provenance.version`, e.g.
    /// "0.1.0 (commit 1a2b3c4d5e6f, branch main)".
    public static var described: String {
        guard let executable = executableURL, let checkout = GitCheckout(containing: executable), let commit = checkout.commit else {
            return release
        }
        var details = ["commit \(commit.prefix(12))"]
        if let tag = checkout.tag(of: commit) { details.append("tag \(tag)") }
        if let branch = checkout.branch { details.append("branch \(branch)") }
        if checkout.changed(after: executable) { details.append("checkout newer than the build") }
        return "\(release) (\(details.joined(separator: ", ")))"
    }

    private static var executableURL: URL? {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return URL(fileURLWithPath: path) }
        #endif
        return Bundle.main.executableURL
    }
}

/// A git checkout's HEAD read from its files (work trees and packed refs included).
struct GitCheckout {
    /// The folder holding HEAD (for a work tree, its own folder under the main `.git`).
    let gitFolder: URL
    /// The folder holding refs and packed-refs (the main `.git`).
    let commonFolder: URL

    /// The checkout holding `file`, looked for in its folder and each one above.
    init?(containing file: URL) {
        var folder = file.deletingLastPathComponent().standardizedFileURL
        while true {
            let dotGit = folder.appendingPathComponent(".git")
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isFolder) {
                guard let git = Self.gitFolder(dotGit, isFolder: isFolder.boolValue) else { return nil }
                gitFolder = git
                let common = Self.firstLine(git.appendingPathComponent("commondir"))
                commonFolder = common.map { URL(fileURLWithPath: $0, relativeTo: git).standardizedFileURL } ?? git
                return
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { return nil }
            folder = parent
        }
    }

    /// `.git` itself, or the folder a work tree's `.git` file names ("gitdir: PATH").
    private static func gitFolder(_ dotGit: URL, isFolder: Bool) -> URL? {
        if isFolder { return dotGit }
        guard let line = firstLine(dotGit), line.hasPrefix("gitdir:") else { return nil }
        let path = line.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
        return URL(fileURLWithPath: path, relativeTo: dotGit.deletingLastPathComponent()).standardizedFileURL
    }

    private static func firstLine(_ url: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: url.path), data.count < 1 << 16,
              let text = String(data: data, encoding: .utf8) else { return nil }
        return text.split(whereSeparator: \.isNewline).first.map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    private var head: String? { Self.firstLine(gitFolder.appendingPathComponent("HEAD")) }

    /// The branch checked out (nil when HEAD is detached).
    var branch: String? {
        guard let head, head.hasPrefix("ref: refs/heads/") else { return nil }
        return String(head.dropFirst("ref: refs/heads/".count))
    }

    /// HEAD's commit in hexadecimal.
    var commit: String? {
        guard let head else { return nil }
        guard head.hasPrefix("ref: ") else { return Self.isCommit(head) ? head : nil }
        let ref = String(head.dropFirst("ref: ".count))
        for folder in [gitFolder, commonFolder] {
            if let loose = Self.firstLine(folder.appendingPathComponent(ref)), Self.isCommit(loose) { return loose }
        }
        return packedRefs.first { $0.ref == ref }?.commit
    }

    /// A tag naming `commit` (loose tag files holding the commit, or packed-refs' peeled lines).
    func tag(of commit: String) -> String? {
        let tags = commonFolder.appendingPathComponent("refs/tags")
        let loose = (try? FileManager.default.contentsOfDirectory(atPath: tags.path)) ?? []
        if let name = loose.sorted().first(where: { Self.firstLine(tags.appendingPathComponent($0)) == commit }) { return name }
        return packedRefs.first { $0.ref.hasPrefix("refs/tags/") && $0.commit == commit }
            .map { String($0.ref.dropFirst("refs/tags/".count)) }
    }

    /// Whether HEAD (or the ref it names) changed after `executable` was built.
    func changed(after executable: URL) -> Bool {
        func modified(_ url: URL) -> Date? { (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date }
        guard let built = modified(executable) else { return false }
        var files = [gitFolder.appendingPathComponent("HEAD")]
        if let head, head.hasPrefix("ref: ") { files.append(commonFolder.appendingPathComponent(String(head.dropFirst(5)))) }
        return files.compactMap(modified).contains { $0 > built }
    }

    /// packed-refs' lines: "COMMIT REF", then "^PEELED" for an annotated tag (the commit it names).
    private var packedRefs: [(ref: String, commit: String)] {
        guard let data = FileManager.default.contents(atPath: commonFolder.appendingPathComponent("packed-refs").path),
              let text = String(data: data, encoding: .utf8) else { return [] }
        var refs: [(ref: String, commit: String)] = []
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("^"), let last = refs.indices.last {
                refs[last].commit = String(line.dropFirst())
            } else if !line.hasPrefix("#") {
                let parts = line.split(separator: " ")
                if parts.count == 2, Self.isCommit(String(parts[0])) { refs.append((String(parts[1]), String(parts[0]))) }
            }
        }
        return refs
    }

    private static func isCommit(_ text: String) -> Bool { text.count >= 40 && text.allSatisfy(\.isHexDigit) }
}
