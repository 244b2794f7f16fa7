import Foundation
import Testing
import TestSupport

/// `sitelens bench` started as users start it, by name through PATH from some other folder:
/// the runs it launches must find the executable itself (they once looked for `<cwd>/sitelens`).
struct BenchThroughPATHTests {
    @Test func benchMemoryStartedThroughPATHRunsItsMeasuredRuns() throws {
        let products = buildProductsDirectory().path
        let elsewhere = try temporaryFolder("sitelens-path")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let path = products + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let run = try runProcess("sitelens", ["bench", "memory", "--sizes", "64", "--ranks", "1", "--grid", "16", "--steps", "1"],
                                 environment: ["PATH": path], directory: elsewhere, timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("failed"), "\(run.stdout)\n\(run.stderr)")
        let rows = fixedWidthRows(run.stdout, columns: ["structures", "file MB", "mode", "peak MB/rank", "first step s"])
        #expect(rows.map { $0["mode"] } == ["streaming", "cached"], "\(run.stdout)")
        for row in rows { #expect(leadingNumber(row["peak MB/rank"]).map { $0 > 0 } == true, "\(row)") }
    }
}
