import Foundation
import MPI

/// One rank's resource figures for a run: what benchmarks and the user see of memory and
/// start-up time.
public struct ResourceUsage: Codable, Sendable {
    public let rank: Int
    /// Peak resident memory (VmHWM), bytes; 0 where the system does not say.
    public let peakResidentBytes: Int
    /// Seconds from process start to the end of this rank's first training step.
    public let secondsToFirstStep: Double?
}

/// This process's peak resident memory in bytes (Linux's VmHWM), or 0 where unknown.
public func peakResidentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
    let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) } ?? 0
    return kilobytes * 1024
}

/// Seconds since `markProcessStart()` (called first thing in `main`).
func secondsSinceStart() -> Double {
    ProcessClock.started.duration(to: .now).seconds
}

/// When the process started, as `markProcessStart()` recorded it.
enum ProcessClock {
    nonisolated(unsafe) static var started = ContinuousClock.now
}

/// Call first thing in `main`: seconds to first step are counted from here.
public func markProcessStart() { ProcessClock.started = ContinuousClock.now }

/// Half of this node's memory shared by the ranks on it: the default budget for cached samples.
func defaultMemoryBudget(world: Communicator) throws -> Int {
    let ranksOnNode = max(1, try world.splitByNode().size)
    return Int(ProcessInfo.processInfo.physicalMemory / 2) / ranksOnNode
}
