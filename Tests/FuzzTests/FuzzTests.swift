import Foundation
import Testing
import TestSupport

/// The harness's executable, built beside `sitelens`.
func fuzzBinary() -> String { buildProductsDirectory().appendingPathComponent("sitelens-fuzz").path }

struct FuzzTests {
    /// 5 000 seeded hostile cases (extxyz, site tables, model files, option values, run records,
    /// checkpoints) through `sitelens-fuzz`: a supervised worker child per batch, 10 s and 1 GiB
    /// per case.
    @Test func fiveThousandHostileCasesGiveNoCrashHangOrMemoryOverBudget() throws {
        let outcome = try runProcess(fuzzBinary(), ["--cases", "5000", "--seed", "1", "--timeout", "10", "--memory-mb", "1024", "--verbose"],
                                     environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 900)
        let summary = outcome.stdout.split(separator: "\n").last { $0.hasPrefix("fuzz: ") }.map(String.init) ?? ""
        print(summary)
        var counts: [String: Int] = [:]
        for part in summary.split(separator: " ") {
            let pieces = part.split(separator: "=")
            if pieces.count == 2, let value = Int(pieces[1]) { counts[String(pieces[0])] = value }
        }
        #expect(counts["cases"] == 5000, "no summary: \(outcome.stdout.suffix(2000)) \(outcome.stderr.suffix(2000))")
        let crashes = outcome.stdout.split(separator: "\n").filter { $0.hasPrefix("case ") && $0.contains(": crash: ") }
        #expect(crashes.count == counts["crash"], "every crash is reported on its own line: \(summary)")
        #expect(crashes.isEmpty, "\(crashes.joined(separator: "\n"))")
        #expect(counts["hang"] == 0 && counts["over-budget"] == 0, "\(outcome.stdout.suffix(4000))")
        #expect(counts["garbage"] == 0, "\(outcome.stdout.suffix(4000))")
        #expect(counts["silent-accept"] == 0, "damaged run folders and checkpoints accepted: \(outcome.stdout.suffix(4000))")
        let verdicts = ["rejected", "unclear", "accepted", "garbage", "silent-accept", "crash", "hang", "over-budget"]
        #expect(verdicts.reduce(0) { $0 + (counts[$1] ?? 0) } == 5000, "every case has one verdict: \(summary)")
        #expect(counts["run-record"] == 500 && counts["checkpoint"] == 500, "run folders and checkpoints are inputs too: \(summary)")
        #expect((counts["accepted"] ?? 0) > 0 && (counts["rejected"] ?? 0) > 0, "the mutations both keep and break inputs: \(summary)")
    }

    /// The harness can fail: a worker that traps is a crash (and the next worker carries on),
    /// and cases above the memory budget are counted as such. Started from another folder with
    /// an `argv[0]` that names no file, so its workers must come from the executable's own path.
    @Test func crashesAndMemoryOverBudgetAreCaught() throws {
        let elsewhere = try temporaryFolder("sitelens-fuzz-cwd")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let crashed = try runProcess("bash", ["-c", "exec -a no-such-file \"$0\" \"$@\"", fuzzBinary(), "--cases", "6", "--trap-at", "2"],
                                     directory: elsewhere, timeout: 300)
        #expect(crashed.status != 0)
        #expect(crashed.stdout.contains("case 2: crash"), "\(crashed.stdout)")
        #expect(crashed.stdout.contains("fuzz: cases=6 ") && crashed.stdout.contains("crash=1 "), "\(crashed.stdout)")
        let greedy = try runProcess(fuzzBinary(), ["--cases", "4", "--memory-mb", "16"], timeout: 300)
        #expect(greedy.status != 0)
        #expect(greedy.stdout.contains("over-budget=4"), "\(greedy.stdout)")
    }
}
