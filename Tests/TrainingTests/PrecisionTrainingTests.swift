import Basics
import Foundation
import Networks
import Structures
import Testing
import TestSupport
@testable import Training

/// Whether this CPU runs oneDNN's bf16 convolutions in hardware.
private let cpuHasBF16 = ConvolutionPrecision.bf16HardwareProblem == nil

/// `train --precision bf16` end to end: a small ryczko CNN learns in bf16 about as well as in
/// fp32 on the same data and seed, the run is recorded as bf16, its model files are Float
/// safetensors laid out as an fp32 run's, `predict` reproduces its predictions, and a resume
/// refuses another precision.
@Suite(.serialized, .enabled(if: cpuHasBF16, "the CPU has no bf16 instructions (lscpu flags avx512_bf16, amx_bf16): bf16 is refused, not emulated"))
struct BF16TrainingTests {
    static let model = ["--model", "ryczko", "--grid", "16", "--extent", "5", "--blocks", "1", "--dense", "16"]

    /// 160 Lennard-Jones clusters in a fresh folder.
    func clusters(_ name: String, count: Int) throws -> (folder: URL, data: String) {
        let folder = try temporaryFolder(name)
        let data = folder.appendingPathComponent("lj.xyz")
        try ExtXYZ.write(LennardJonesClusters.generate(count: count, seed: 4), to: data)
        return (folder, data.path)
    }

    /// The run's `test-metrics.json`: the ensemble's test MAE and the training mean's.
    func testMAE(_ run: URL) throws -> (model: Double, mean: Double) {
        let maes = testMAEs(ofRun: run)
        return (try #require(maes.model), try #require(maes.mean))
    }

    /// The validation MAE of the trained member and of the training energies' mean, from predictions.csv.
    func validationMAE(_ run: URL) throws -> (model: Double, mean: Double) {
        let rows = try String(contentsOf: run.appendingPathComponent("predictions.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let train = rows.filter { $0[1] == "m0:train" }.compactMap { Double($0[2]) }
        let validation = rows.filter { $0[1] == "m0:validation" }.compactMap { row in Double(row[2]).flatMap { t in Double(row[3]).map { (t, $0) } } }
        #expect(train.count > 50 && validation.count > 10)
        let trainMean = train.reduce(0, +) / Double(max(train.count, 1))
        let count = Double(max(validation.count, 1))
        return (validation.map { abs($0.1 - $0.0) }.reduce(0, +) / count, validation.map { abs(trainMean - $0.0) }.reduce(0, +) / count)
    }

    @Test func bf16TrainingLearnsAsFP32DoesAndSavesFloatModels() throws {
        let (folder, data) = try clusters("sitelens-bf16", count: 160)
        func run(_ precision: String) throws -> URL {
            let run = folder.appendingPathComponent("run-\(precision)")
            let outcome = try runProcess(sitelens, ["train", data] + Self.model + ["--epochs", "12", "--batch-size", "16", "--seed", "2",
                                                    "--precision", precision, "--run-dir", run.path], timeout: 600)
            #expect(outcome.status == 0, "\(outcome.stderr.suffix(1500))")
            #expect(outcome.stdout.contains("convolutions in \(precision)"), "\(outcome.stdout.prefix(400))")
            #expect(try RunRecord.read(from: RunFolder(run)).options["--precision"] == precision)
            return run
        }
        let (fp32, bf16) = (try run("fp32"), try run("bf16"))
        let validation = try validationMAE(bf16)
        #expect(validation.model < 0.8 * validation.mean, "bf16 validation MAE \(validation.model) eV, the training mean's \(validation.mean) eV")
        let (test32, test16) = (try testMAE(fp32), try testMAE(bf16))
        #expect(test16.model < 0.8 * test16.mean, "bf16 test MAE \(test16.model) eV, the training mean's \(test16.mean) eV")
        #expect(abs(test16.model - test32.model) <= 0.25 * test32.model, "test MAE bf16 \(test16.model) eV, fp32 \(test32.model) eV")
        // bf16 really ran: the weights differ from fp32's, by what bf16's rounding explains.
        let (weights32, weights16) = (try memberTensors(fp32), try memberTensors(bf16))
        #expect(weights32.map(\.values) != weights16.map(\.values))
        // The model file is Float safetensors laid out as fp32's: the same header but for the
        // data's checksum, the same size.
        let file = { (run: URL) in try Data(contentsOf: run.appendingPathComponent("model/member-0.safetensors")) }
        let (file32, file16) = (try file(fp32), try file(bf16))
        let (header32, header) = (splitSafeTensors(Array(file32)).header, splitSafeTensors(Array(file16)).header)
        let layout = { (header: String) in header.replacingOccurrences(of: #""data_crc32":"[0-9a-f]{8}""#, with: "", options: .regularExpression) }
        #expect(file16.count == file32.count && layout(header) == layout(header32))
        #expect(header.contains("\"F32\"") && !header.contains("BF16"), "\(header.prefix(300))")
        // predict loads the bf16-trained members (in fp32) and gives the run's own predictions.
        let predictions = folder.appendingPathComponent("p.csv")
        let predict = try runProcess(sitelens, ["predict", "--run", bf16.path, data, "--out", predictions.path], timeout: 300)
        #expect(predict.status == 0, "\(predict.stderr)")
        #expect(try String(contentsOf: predictions, encoding: .utf8) == String(contentsOf: bf16.appendingPathComponent("predictions.csv"), encoding: .utf8))
    }

    /// A bf16 run resumes in bf16 and refuses fp32, naming the option.
    @Test func aResumeKeepsThePrecision() throws {
        let (folder, data) = try clusters("sitelens-bf16-resume", count: 24)
        let run = folder.appendingPathComponent("run")
        let common = ["train", data] + Self.model + ["--epochs", "2", "--batch-size", "8", "--checkpoint-every", "1"]
        let halted = try runProcess(sitelens, common + ["--precision", "bf16", "--run-dir", run.path, "--halt-after-epoch", "1"], timeout: 300)
        #expect(halted.status == 0, "\(halted.stderr.suffix(800))")
        let refused = try runProcess(sitelens, common + ["--resume", run.path], timeout: 120)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("--precision: this run fp32, the checkpointed run bf16"), "stderr: \(refused.stderr.suffix(800))")
        let resumed = try runProcess(sitelens, common + ["--resume", run.path, "--precision", "bf16"], timeout: 300)
        #expect(resumed.status == 0, "\(resumed.stderr.suffix(800))")
        #expect(try RunRecord.read(from: RunFolder(run)).options["--precision"] == "bf16")
    }
}

/// `--precision bf16` where it cannot run is refused before anything is read, naming the option.
struct PrecisionRefusalCommandTests {
    func refusal(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let outcome = try runProcess(sitelens, ["train", "/nonexistent.xyz", "--precision", "bf16"] + arguments,
                                     environment: environment, timeout: 60)
        #expect(outcome.status != 0)
        #expect(!outcome.stderr.contains("/nonexistent.xyz"), "refused for the data, not the precision: \(outcome.stderr)")
        return outcome.stderr
    }

    @Test func im2colAndModelsWithoutConvolutionsAreRefused() throws {
        let im2col = try refusal(["--model", "ryczko", "--conv-backend", "im2col"])
        #expect(im2col.contains("--precision bf16 runs on the dnnl backend only; --conv-backend im2col computes in fp32"), "\(im2col)")
        let sites = try refusal(["--model", "sites"])
        #expect(sites.contains("--precision bf16") && sites.contains("the sites model has none"), "\(sites)")
        let unknown = try runProcess(sitelens, ["train", "/nonexistent.xyz", "--precision", "fp16"], timeout: 60)
        #expect(unknown.status != 0 && unknown.stderr.contains("--precision"), "\(unknown.stderr)")
    }

    /// oneDNN capped below bf16 (`DNNL_MAX_CPU_ISA=AVX2`, as on a CPU without it) refuses and says what is missing.
    @Test func aCPUWithoutBF16IsRefusedNotEmulated() throws {
        let text = try refusal(["--model", "ryczko"], environment: ["DNNL_MAX_CPU_ISA": "AVX2"])
        #expect(text.contains("--precision bf16 needs a CPU with bf16 instructions (lscpu flag avx512_bf16 or amx_bf16)")
                && text.contains("'avx2'"), "\(text)")
    }
}

struct PrecisionRecordTests {
    /// A record written before `--precision` existed trained in fp32: an fp32 resume matches it, a bf16 one is refused by name.
    @Test func recordsWithoutThePrecisionMeanFP32() {
        var earlier = sampleRunRecord()
        earlier.options["--precision"] = nil
        var now = sampleRunRecord()
        now.options["--precision"] = "fp32"
        #expect(now.mismatches(resuming: earlier).isEmpty)
        now.options["--precision"] = "bf16"
        #expect(now.mismatches(resuming: earlier) == ["--precision: this run bf16, the checkpointed run fp32"])
    }
}
