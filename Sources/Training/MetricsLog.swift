import Basics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The run's per-epoch metrics: the one owner of their files and format (one JSON object a
/// line). While training, each member's epochs are appended as they complete to the member's
/// own log, `checkpoints/member-K.metrics.jsonl`, by its group's root (one writer per file,
/// since groups train at once); at the end rank 0 writes every member's epochs to
/// `metrics.jsonl`. A crash thus keeps the history up to the last finished epoch, and a resumed
/// run starts from the member logs.
public enum MetricsLog {
    public static func write(_ metrics: [EpochMetrics], to folder: RunFolder) throws {
        try writeAtomically(try metrics.map(line).joined(), to: folder.file(.metrics))
    }

    /// The metrics of an earlier run's `metrics.jsonl` (none when it wrote no file yet).
    public static func read(from folder: RunFolder) throws -> [EpochMetrics] {
        try read(folder.file(.metrics)).metrics
    }

    /// A member's own log in `folder`.
    public static func memberLog(_ folder: RunFolder, member: Int) -> URL {
        folder.memberLog(member: member)
    }

    /// The epochs of `member` an earlier run in `folder` finished, up to `epoch` (the
    /// checkpoint's: later ones are trained again), from its member log, else from the run's
    /// `metrics.jsonl` (runs before member logs). `note` tells of a last line cut short.
    static func history(of member: Int, in folder: RunFolder, through epoch: Int, note: (String) -> Void) throws -> [EpochMetrics] {
        let log = memberLog(folder, member: member)
        let (metrics, partial) = try read(FileManager.default.fileExists(atPath: log.path) ? log : folder.file(.metrics))
        if let partial { note("\(log.path): line \(partial) was cut short (the run stopped while writing it); dropped") }
        var seen = Set<Int>()
        // Each epoch once: the last record of it before the checkpoint wins.
        return Array(metrics.reversed().filter { $0.member == member && $0.epoch <= epoch && seen.insert($0.epoch).inserted }.reversed())
    }

    /// The records of a metrics file and, when its last line lacks its newline and does not
    /// read (a write cut short), that line's number; any other unreadable line is an error
    /// naming the file and line.
    static func read(_ url: URL) throws -> (metrics: [EpochMetrics], partialLine: Int?) {
        guard let data = FileManager.default.contents(atPath: url.path) else { return ([], nil) }
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let decoder = sitelensJSONDecoder()
        var metrics: [EpochMetrics] = []
        for (number, line) in lines.enumerated() where !line.isEmpty {
            do { metrics.append(try decoder.decode(EpochMetrics.self, from: Data(line))) }
            catch {
                if number == lines.count - 1 { return (metrics, number + 1) }  // no newline after it: cut short
                throw InputError(file: url.path, line: number + 1, "unreadable metrics line: \(error)")
            }
        }
        return (metrics, nil)
    }

    static func line(_ metrics: EpochMetrics) throws -> String {
        String(decoding: try sitelensJSONEncoder().encode(metrics), as: UTF8.self) + "\n"
    }
}

/// A member's log, open for appending: starts as `history` (written whole, atomically), then
/// takes one line per finished epoch, each in one write, so a crash leaves whole lines and at
/// most one cut short.
final class MemberMetricsLog {
    private let url: URL
    private let handle: FileHandle

    init(folder: RunFolder, member: Int, history: [EpochMetrics]) throws {
        url = MetricsLog.memberLog(folder, member: member)
        try writeAtomically(try history.map(MetricsLog.line).joined(), to: url)
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw TrainingError("\(url.path): cannot open the metrics log for appending")
        }
        self.handle = handle
        _ = try handle.seekToEnd()
    }

    func append(_ metrics: EpochMetrics) throws {
        do { try handle.write(contentsOf: Data(try MetricsLog.line(metrics).utf8)) }
        catch { throw TrainingError("\(url.path): cannot append to the metrics log: \(error)") }
    }

    deinit { try? handle.close() }
}
