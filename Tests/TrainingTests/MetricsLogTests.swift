import Basics
import Foundation
import Testing
import TestSupport
@testable import Training

/// The metrics logs: appended epoch by epoch, read back after a crash (one process).
struct MetricsLogTests {
    func metrics(_ member: Int, _ epoch: Int) -> EpochMetrics {
        EpochMetrics(member: member, epoch: epoch, trainMSE: Double(epoch), trainMAE: 1, validationMSE: nil, validationMAE: nil,
                     seconds: 0.5, samplesPerSecond: 10, allReduceShare: 0)
    }

    @Test func aLogCutShortKeepsItsWholeLinesAndResumesAtTheCheckpoint() throws {
        let folder = RunFolder(try temporaryFolder("sitelens-metrics").appendingPathComponent("run"))
        let log = try MemberMetricsLog(folder: folder, member: 1, history: [metrics(1, 1)])
        for epoch in 2...4 { try log.append(metrics(1, epoch)) }
        let url = MetricsLog.memberLog(folder, member: 1)
        #expect(try MetricsLog.read(url).metrics.map(\.epoch) == [1, 2, 3, 4], "each epoch is on disk as it finishes")
        // A crash in the middle of epoch 5's line, with the checkpoint still at epoch 3.
        let handle = try FileHandle(forWritingTo: url)
        _ = try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"member":1,"epo"#.utf8))
        try handle.close()
        var notes: [String] = []
        let history = try MetricsLog.history(of: 1, in: folder, through: 3, note: { notes.append($0) })
        #expect(history == [metrics(1, 1), metrics(1, 2), metrics(1, 3)])
        #expect(notes.count == 1 && notes[0].contains("line 5") && notes[0].contains("cut short"), "\(notes)")
        // The resumed log starts from that history, whole lines only, and goes on.
        let resumed = try MemberMetricsLog(folder: folder, member: 1, history: history)
        try resumed.append(metrics(1, 4))
        #expect(try MetricsLog.read(url) .metrics.map(\.epoch) == [1, 2, 3, 4])
        #expect(try MetricsLog.read(url).partialLine == nil)
    }

    @Test func anUnreadableLineInsideTheLogIsAnErrorNamingIt() throws {
        let folder = RunFolder(try temporaryFolder("sitelens-metrics").appendingPathComponent("run"))
        let url = MetricsLog.memberLog(folder, member: 0)
        try writeAtomically(try MetricsLog.line(metrics(0, 1)) + "garbage\n" + MetricsLog.line(metrics(0, 2)), to: url)
        #expect { _ = try MetricsLog.history(of: 0, in: folder, through: 2, note: { _ in }) } throws: {
            ($0 as? InputError)?.line == 2 && "\($0)".contains(url.path)
        }
    }

    /// A run from before member logs resumes from its `metrics.jsonl`, each epoch once.
    @Test func aRunWithoutMemberLogsResumesFromItsMetricsFile() throws {
        let folder = RunFolder(try temporaryFolder("sitelens-metrics").appendingPathComponent("run"))
        try MetricsLog.write([metrics(0, 1), metrics(1, 1), metrics(0, 2), metrics(0, 2), metrics(0, 3)], to: folder)
        #expect(try MetricsLog.history(of: 0, in: folder, through: 2, note: { _ in }).map(\.epoch) == [1, 2])
    }
}
