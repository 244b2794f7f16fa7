import Foundation
import MPI
import Training

/// `bench index-run`: the frame index of an extxyz file built in parallel by the ranks of the
/// job (as `train` builds it), checked to be the same on every rank, and the time it took. For
/// tests and for timing the scan.
public struct FrameIndexCheck: Codable, Sendable {
    public var offsets: [Int64]
    public var lines: [UInt32]
    public var ranksAgree: Bool
    public var seconds: Double

    /// Builds the index of `path` on every rank of `world`; rank 0 gets the result (gathered
    /// from every rank to compare), the others nil.
    public static func run(path: String, world: Communicator) throws -> FrameIndexCheck? {
        let started = ContinuousClock.now
        let index = try parallelFrameIndex(path: path, world: world)
        let elapsed = started.duration(to: .now).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
        let everyRank = try world.gather([index.offsets.map(UInt64.init(bitPattern:)), index.lines.map(UInt64.init)], root: 0)
        guard let everyRank else { return nil }
        return FrameIndexCheck(offsets: index.offsets, lines: index.lines, ranksAgree: Set(everyRank).count == 1, seconds: seconds)
    }

    /// As rank 0 prints it: one line of JSON.
    public func jsonLine() throws -> String { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
}
