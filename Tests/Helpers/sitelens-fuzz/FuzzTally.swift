import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How one case ended.
enum FuzzVerdict: String, CaseIterable {
    /// Refused with a message naming the file and line (or the option).
    case rejected
    /// Refused, but the message names neither file nor option.
    case unclear
    /// Accepted, and every output finite and non-trivial.
    case accepted
    /// Accepted, but an output is non-finite or all zero.
    case garbage
    /// Damaged input accepted as if whole: a checkpoint read back with other content than was
    /// written, or a run file or checkpoint header accepted with a value no run writes.
    case silentAccept = "silent-accept"
    case crash, hang
    case overBudget = "over-budget"
}

/// Counts per verdict, and the cases that went wrong.
struct FuzzTally {
    var counts: [FuzzVerdict: Int] = [:]
    var kinds: [String: Int] = [:]

    var failures: Int { [FuzzVerdict.crash, .hang, .overBudget].reduce(0) { $0 + (counts[$1] ?? 0) } }

    /// The case and kind of a `begin INDEX KIND` line.
    static func parseBegin(_ line: String) -> (index: Int, kind: String)? {
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[0] == "begin", let index = Int(parts[1]) else { return nil }
        return (index, String(parts[2]))
    }

    /// The mutation of a `mutation INDEX LABEL` line (what a case did to its input).
    static func parseMutation(_ line: String) -> String? {
        let parts = line.split(separator: " ", maxSplits: 2)
        return parts.count == 3 && parts[0] == "mutation" ? String(parts[2]) : nil
    }

    /// Records an `end` line; true when it was one.
    mutating func record(_ line: String, verbose: Bool) -> Bool {
        let parts = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 5, parts[0] == "end", let index = Int(parts[1]), let verdict = FuzzVerdict(rawValue: parts[2]) else {
            return false
        }
        kinds[parts[4], default: 0] += 1
        let detail = "[\(parts[4]), peak \(parts[3]) KiB] " + (parts.count > 5 ? parts[5] : "")
        add(verdict, index: index, detail: detail, verbose: verbose && ![.rejected, .accepted].contains(verdict))
        return true
    }

    mutating func add(_ verdict: FuzzVerdict, index: Int, detail: String, verbose: Bool) {
        counts[verdict, default: 0] += 1
        if verbose { print("case \(index): \(verdict.rawValue): \(detail)") }
    }

    func summary(cases: Int, seconds: Double) -> String {
        let parts = FuzzVerdict.allCases.map { "\($0.rawValue)=\(counts[$0] ?? 0)" }
        let kindParts = kinds.keys.sorted().map { "\($0)=\(kinds[$0] ?? 0)" }
        return "fuzz: cases=\(cases) " + parts.joined(separator: " ") + " seconds=\(String(format: "%.1f", seconds)) kinds: "
            + kindParts.joined(separator: " ")
    }
}

/// Lines from a pipe, with a timeout per line.
struct LineReader {
    enum Next { case line(String), timedOut, closed }
    let fd: Int32
    var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    mutating func next(timeout: Double) -> Next {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return .line(line)
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { return .timedOut }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining, 60) * 1000) + 1)
            if ready == 0 { continue }
            if ready < 0 { if errno == EINTR { continue }; return .closed }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = read(fd, &chunk, chunk.count)
            if count <= 0 { return .closed }
            buffer += chunk[..<count]
        }
    }
}

/// Resets this process's peak resident set size (VmHWM), as `echo 5 > /proc/self/clear_refs`.
func resetPeakMemory() {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    guard fd >= 0 else { return }
    _ = "5".withCString { write(fd, $0, 1) }
    close(fd)
}

/// This process's peak resident set size since the last reset, KiB (VmHWM).
func peakMemoryKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    return 0
}
