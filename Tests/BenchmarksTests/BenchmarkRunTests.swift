import Foundation
import Networks
import Testing
import TestSupport
@testable import Benchmarks

/// One small run of each benchmark, its table checked for its columns and numeric cells (never
/// for speed: a unit test must not time anything). Benchmarks that launch `sitelens` run here
/// in-process with the built executable; those that need MPI in-process run as `sitelens bench`.
@Suite(.serialized)
struct BenchmarkRunTests {
    let sitelens = URL(fileURLWithPath: TestSupport.sitelens)
    var launcher: SiteLensLauncher { SiteLensLauncher(executable: sitelens) }

    @Test func rasteriserTableHasARowPerAtomCount() throws {
        var configuration = RasteriserBenchmark.Configuration()
        configuration.atomCounts = [2, 7]
        configuration.seconds = 0.01
        let table = try RasteriserBenchmark(configuration, references: ReferenceScripts(near: sitelens), log: { _ in }).run()
        #expect(table.columns == ["atoms", "SiteLens ms/image", "SiteLens atoms/s", "NumPy ms/image", "speed-up"])
        #expect(table.cells(of: "atoms") == ["2", "7"])
        for cell in table.cells(of: "SiteLens ms/image") ?? [] { #expect(leadingNumber(cell).map { $0 > 0 } == true, "\(table.rows)") }
    }

    @Test func scalingTableHasEveryRunAndTheIndependentCeiling() throws {
        var configuration = ScalingBenchmark.Configuration()
        (configuration.ranks, configuration.epochs, configuration.grid, configuration.allReduceModes) = ([1, 2], 2, 16, ["single"])
        (configuration.clusters, configuration.siteRows) = (64, 64)
        configuration.overlap = nil
        let table = try ScalingBenchmark(configuration, launcher: launcher, log: { _ in }).run()
        // Per model: 1 rank, then 2 ranks independent and single.
        #expect(table.cells(of: "all-reduce") == ["none", "independent", "single", "none", "independent", "single"], "\(table.rows)")
        #expect(table.cells(of: "model")?.map { $0?.prefix(6) } == ["ryczko", "ryczko", "ryczko", "atomic", "atomic", "atomic"])
        for cell in table.cells(of: "samples/s") ?? [] { #expect(leadingNumber(cell).map { $0 > 0 } == true, "\(table.rows)") }
        // The data-parallel runs' share of the ceiling is a percentage; the ceiling has none of itself.
        let ofCeiling = table.cells(of: "÷ independent") ?? []
        #expect(ofCeiling[2]?.hasSuffix("%") == true && ofCeiling[5]?.hasSuffix("%") == true && ofCeiling[1] == "-", "\(table.rows)")
        #expect(table.cells(of: "speed-up")?.first == "1.00×")
    }

    @Test func memoryTableHasStreamingAndCachedRowsPerSize() throws {
        var configuration = MemoryBenchmark.Configuration()
        (configuration.sizes, configuration.ranks, configuration.grid, configuration.steps) = ([64, 128], 1, 16, 1)
        let table = try MemoryBenchmark(configuration, launcher: launcher, log: { _ in }).run()
        #expect(table.cells(of: "structures") == ["64", "64", "128", "128"], "\(table.rows)")
        #expect(table.cells(of: "mode") == ["streaming", "cached", "streaming", "cached"])
        // A few clusters make a file of under 0.05 MB: "0.0", still a number.
        for cell in table.cells(of: "file MB") ?? [] { #expect(leadingNumber(cell).map { $0 >= 0 } == true, "\(table.rows)") }
        for column in ["peak MB/rank", "first step s", "peak ÷ smallest"] {
            for cell in table.cells(of: column) ?? [] { #expect(leadingNumber(cell).map { $0 > 0 } == true, "\(column): \(table.rows)") }
        }
        #expect(table.cells(of: "peak ÷ smallest")?.first == "1.00×")
    }

    @Test func overlapTableHasEveryModeOnTwoRanks() throws {
        let run = try mpirun(2, sitelens.path, ["bench", "overlap-run", "--mebibytes", "1", "--layers", "4", "--layer-work", "1000", "--rounds", "3",
                                                "--all-reduce", "single,buckets"], timeout: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let rows = fixedWidthRows(run.stdout, columns: ["all-reduce", "backward ms", "wait after backward ms", "÷ single"])
        #expect(rows.map { $0["all-reduce"] } == ["transfer alone", "barrier", "single", "buckets"], "\(run.stdout)")
        for row in rows { #expect(leadingNumber(row["wait after backward ms"]).map { $0 >= 0 } == true, "\(row)") }
        #expect(rows.first { $0["all-reduce"] == "single" }?["÷ single"] == "1.00")
    }

    @Test func trainingSpeedTablesHaveEachBackendAndStepMode() throws {
        // From a folder with no ../shared/data beside it, the sites line is not run.
        let elsewhere = try temporaryFolder("sitelens-bench-train")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let run = try runProcess(sitelens.path, ["bench", "train", "--grids", "16", "--steps", "16:1", "--conv-backends", "im2col,dnnl", "--no-reference",
                                                 "--atomic-structures", "32"], directory: elsewhere, timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("sites benchmark not run: no HEA site table"), "\(run.stdout)")
        let ryczko = fixedWidthRows(run.stdout, columns: ["grid", "backend", "precision", "trainer samples/s", "GFLOP/s (% peak)", "net fwd+bwd ×32/s",
                                                          "trainer ÷ net"])
        #expect(ryczko.map { $0["backend"] } == ["im2col", "dnnl"], "\(run.stdout)\n\(run.stderr)")
        #expect(ryczko.allSatisfy { $0["precision"] == "fp32" }, "\(run.stdout)")
        for row in ryczko { #expect(leadingNumber(row["trainer samples/s"]).map { $0 > 0 } == true && leadingNumber(row["GFLOP/s (% peak)"]) != nil, "\(row)") }
        // The trainer's rate over the network's, as a percentage of the two columns before it.
        for row in ryczko {
            let (trainer, network, share) = (leadingNumber(row["trainer samples/s"]), leadingNumber(row["net fwd+bwd ×32/s"]), leadingNumber(row["trainer ÷ net"]))
            #expect(trainer != nil && network != nil && share.map { abs($0 - 100 * trainer! / network!) <= 1 } == true, "\(row)")
        }
        let atomic = fixedWidthRows(run.stdout, columns: ["backend", "steps", "samples/s", "GFLOP/s (% peak)", "against the first"])
        #expect(atomic.map { $0["steps"] } == ["one by one", "batched", "one by one", "batched"], "\(run.stdout)")
        for row in atomic { #expect(leadingNumber(row["samples/s"]).map { $0 > 0 } == true, "\(row)") }
        #expect(atomic.first?["against the first"] == "1.00×")
    }

    /// `--precisions fp32,bf16`: bf16 beside fp32 on dnnl (fp32 first, bf16 set against it),
    /// fp32 alone on im2col, which computes in fp32 only.
    @Test(.enabled(if: ConvolutionPrecision.bf16HardwareProblem == nil, "the CPU has no bf16 instructions: bf16 is refused, not emulated"))
    func trainingSpeedTableSetsBF16BesideFP32() throws {
        let elsewhere = try temporaryFolder("sitelens-bench-train-bf16")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let run = try runProcess(sitelens.path, ["bench", "train", "--grids", "16", "--steps", "16:1", "--conv-backends", "dnnl,im2col",
                                                 "--precisions", "bf16,fp32", "--no-reference", "--atomic-structures", "32"],
                                 directory: elsewhere, timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let rows = fixedWidthRows(run.stdout, columns: ["grid", "backend", "precision", "trainer samples/s", "GFLOP/s (% peak)",
                                                        "net fwd+bwd ×32/s", "trainer ÷ net", "Keras /s (% peak)", "ratio", "against fp32"])
        #expect(rows.map { "\($0["backend"] ?? "") \($0["precision"] ?? "")" } == ["dnnl fp32", "dnnl bf16", "im2col fp32"], "\(run.stdout)")
        for row in rows { #expect(leadingNumber(row["trainer samples/s"]).map { $0 > 0 } == true, "\(row)") }
        #expect(rows.first?["against fp32"] == "1.00×")
        #expect(leadingNumber(rows.dropFirst().first?["against fp32"]).map { $0 > 0 } == true, "\(rows)")
        // Each precision's GFLOP/s is read against its own peak: sgemm's for fp32, the bf16 convolution's for bf16.
        func peak(_ prefix: String) -> Double? {
            leadingNumber(run.stdout.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
        }
        let peaks = ["fp32": peak("Machine sgemm peak: "), "bf16": peak("Machine bf16 peak: ")]
        #expect(peaks.values.allSatisfy { ($0 ?? 0) > 0 }, "\(run.stdout)")
        for row in rows {
            let cell = row["GFLOP/s (% peak)"] ?? ""
            let percent = cell.split(separator: "(").last.flatMap { leadingNumber(String($0)) }
            let expected = leadingNumber(cell).flatMap { gflops in peaks[row["precision"] ?? ""].flatMap { $0 }.map { 100 * gflops / $0 } }
            #expect(percent != nil && expected.map { abs($0 - percent!) <= 1 } == true, "\(row) against \(peaks)")
        }
    }

    @Test func accuracyTableHasTheBaselinesAndEachModel() throws {
        let run = try runProcess(sitelens.path, ["bench", "accuracy", "--structures", "40", "--ensemble", "1", "--atomic-epochs", "1", "--ryczko-epochs", "1",
                                                 "--grid", "16", "--blocks", "1", "--dense", "8", "--bin-widths", "0.1", "--patch-size", "9"], timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let rows = markdownRows(run.stdout)
        let names = rows.compactMap { $0["model"] }
        #expect(names.count == 5 && names.prefix(3) == ["training mean", "linear on atom count", "linear on pair-distance histogram, 0.1 Å bins"], "\(run.stdout)")
        #expect(names[3].hasPrefix("atomic (") && names[4].hasPrefix("ryczko ("), "\(names)")
        for row in rows {
            #expect(leadingNumber(row["test MAE (eV)"]).map { $0 >= 0 } == true && leadingNumber(row["test RMSE (eV)"]) != nil, "\(row)")
        }
        #expect(rows[2]["MAE ÷ best linear fit's"] == "1.00")
    }

    /// A planted table is additive in site × element, so the one-hot linear fit recovers it to
    /// the noise and is the baseline the sites ensemble is set beside; the ensemble's uncertainty is printed.
    @Test func accuracyOnASiteTableSetsTheSitesModelBesideTheOneHotFit() throws {
        let folder = try temporaryFolder("sitelens-bench-sites")
        let table = folder.appendingPathComponent("planted.csv").path
        let generated = try runProcess(sitelens.path, ["generate", "--out", table, "--structures", "200", "--noise", "0.01"])
        #expect(generated.status == 0, "\(generated.stderr)")
        let run = try runProcess(sitelens.path, ["bench", "accuracy", table, "--ensemble", "2", "--sites-epochs", "20"], timeout: 300)
        #expect(run.status == 0, "\(run.stderr)")
        let rows = markdownRows(run.stdout)
        let oneHot = try #require(rows.first { $0["model"] == "linear on site × element counts" }, "\(run.stdout)")
        let mean = try #require(rows.first { $0["model"] == "training mean" })
        #expect(oneHot["MAE ÷ best linear fit's"] == "1.00")
        #expect((leadingNumber(oneHot["test MAE (eV)"]) ?? 1) < 0.03, "the planted truth is additive: \(oneHot)")
        #expect((leadingNumber(mean["test MAE (eV)"]) ?? 0) > 0.1)
        #expect(rows.contains { $0["model"]?.hasPrefix("sites (") == true } && !rows.contains { $0["model"]?.hasPrefix("linear on pair") == true })
        #expect(run.stdout.contains("test uncertainty: Spearman(std, |error|)") && run.stdout.contains("within [lo95, hi95]"), "\(run.stdout)")
    }
}
