import Foundation
import Testing
import TestSupport
@testable import Structures

/// The frame index built in parallel under mpirun (`sitelens bench index-run`, as `train` builds
/// it) against the serial scan in this process.
@Suite(.serialized)
struct ShardedReadingTests {
    struct Printed: Decodable {
        var offsets: [Int64]
        var lines: [UInt32]
        var ranksAgree: Bool
    }

    /// Lennard-Jones frames, then frames whose comment lines read as counts (one of them the
    /// count of a frame several lines on), so a rank's byte range often starts inside a frame
    /// at a line that looks like a frame's start.
    func tricky() throws -> URL {
        let url = try temporaryFolder("sitelens-pindex").appendingPathComponent("tricky.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: 7, seed: 5), to: url)
        var text = try String(contentsOf: url, encoding: .utf8)
        for k in 0..<30 { text += "2\n\(k % 4)\nH 0 0 \(k)\nH 1 0 0\n1\n2\nHe 0 0 0\n" }
        try (text + "\n\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test(arguments: [2, 3])
    func theParallelIndexEqualsTheSerialOneOnEveryRank(ranks: Int) throws {
        let url = try tricky()
        let run = try mpirun(ranks, sitelens, ["bench", "index-run", url.path], timeout: 120)
        #expect(run.status == 0, "\(run.stderr.suffix(1500))")
        let printed = try JSONDecoder().decode(Printed.self, from: Data((run.stdout.split(separator: "\n").last ?? "").utf8))
        let serial = try ExtXYZFrameIndex.scan(path: url.path)
        #expect(printed.ranksAgree)
        #expect(printed.offsets == serial.offsets && printed.lines == serial.lines)
        #expect(serial.frameCount == 7 + 60)
    }

    /// A count line gone bad deep in the file: the job ends naming the file and the line in the
    /// whole file, on any rank count.
    @Test(arguments: [2, 3])
    func aBadCountLineEndsTheJobWithFileAndLine(ranks: Int) throws {
        let url = try tricky()
        var lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let bad = try ExtXYZFrameIndex.scan(path: url.path).lines[50]
        lines[Int(bad) - 1] = "two"
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let run = try mpirun(ranks, sitelens, ["bench", "index-run", url.path], timeout: 60)
        #expect(run.status != 0 && !run.timedOut)
        #expect(run.stderr.contains("tricky.xyz:\(bad)") && run.stderr.contains("atom count"), "line \(bad): \(run.stderr.prefix(1500))")
    }
}
