import Basics
import Foundation
@testable import Networks
import Testing
import TestSupport
@testable import Training

/// `--keep`, `--patience` and `--lr-schedule` in real runs (issue 20, item 4), on planted data
/// where a learning rate of 0.2 makes the validation error rise again after its early best.
@Suite(.serialized)
struct FitPolicyRunTests {
    static let fast = ["--learning-rate", "0.2", "--batch-size", "8", "--seed", "11"]

    /// Each epoch's line of a run's metrics.jsonl, by member.
    func metrics(_ run: URL) throws -> [EpochMetrics] { try MetricsLog.read(from: RunFolder(run)) }

    func trainingRecord(_ run: URL, member: Int = 0) throws -> TrainingRecord? {
        try EnergyModel.load(from: run.appendingPathComponent("model"), name: "member-\(member)").modelDescription.training
    }

    func file(_ run: URL, _ name: String) throws -> Data { try Data(contentsOf: run.appendingPathComponent(name)) }

    @Test func theBestEpochsWeightsAreSavedAndUsed() throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        let best = folder.appendingPathComponent("best"), last = folder.appendingPathComponent("last")
        // This member's own split makes its validation error rise before epoch 15 (the shared split does not).
        let split = ["--validation-split", "per-member"]
        let outcome = try train(ranks: 1, [csv, "--epochs", "15", "--run-dir", best.path] + Self.fast + split)
        try train(ranks: 1, [csv, "--epochs", "15", "--keep", "last", "--run-dir", last.path] + Self.fast + split)
        let history = try metrics(best)
        let lowest = try #require(history.min { ($0.validationMSE ?? .infinity) < ($1.validationMSE ?? .infinity) })
        let kept = try #require(try trainingRecord(best)?.keptEpoch)
        #expect(kept == lowest.epoch && kept < 15, "kept epoch \(kept); the lowest validation error was in epoch \(lowest.epoch)")
        #expect(outcome.stdout.contains("member 0 keeps the weights of epoch \(kept)"), "\(outcome.stdout.suffix(800))")
        #expect(try trainingRecord(best)?.finalValidationMAE == lowest.validationMAE)
        #expect(try trainingRecord(last)?.keptEpoch == 15)
        #expect(try file(best, "model/member-0.safetensors") != file(last, "model/member-0.safetensors"))
        // A run stopped at the best epoch holds the same weights, and so the same decomposition and predictions.
        let stopped = folder.appendingPathComponent("stopped")
        try train(ranks: 1, [csv, "--epochs", "\(kept)", "--keep", "last", "--run-dir", stopped.path] + Self.fast + split)
        for name in ["model/member-0.safetensors", "decomposition.csv", "predictions.csv"] {
            #expect(try file(best, name) == file(stopped, name), "\(name)")
        }
        let record = try RunRecord.read(from: RunFolder(best))
        #expect(record.options["--keep"] == "best" && record.options["--patience"] == "0", "\(record.options)")
    }

    @Test func patienceStopsAtTheSameEpochOnOneAndTwoRanks() throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        var stops: [Int] = [], weights: [[SafeTensors.Tensor]] = []
        for ranks in [1, 2] {
            let run = folder.appendingPathComponent("run\(ranks)")
            let outcome = try train(ranks: ranks, [csv, "--epochs", "40", "--patience", "4", "--reproducible", "--run-dir", run.path] + Self.fast)
            let history = try metrics(run)
            let kept = try #require(try trainingRecord(run)?.keptEpoch)
            #expect(history.map(\.epoch) == Array(1...(kept + 4)), "\(ranks) ranks: best epoch \(kept), \(history.count) epochs")
            #expect(outcome.stdout.contains("member 0 stops after epoch \(kept + 4)"), "\(outcome.stdout.suffix(600))")
            #expect(try RunRecord.read(from: RunFolder(run)).complete)
            stops.append(history.count)
            weights.append(try memberTensors(run))
        }
        #expect(stops[0] == stops[1] && stops[0] < 40, "stopped after \(stops) epochs")
        let difference = largestRelativeDifference(weights[0], weights[1])
        #expect(difference <= 1e-5, "1 rank and 2 ranks differ by \(difference)")
    }

    @Test func eachSchedulesRatesInARunAreItsFormulas() throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        let cases: [(String, [String], [Double])] = [
            ("step", ["--lr-step-epochs", "2", "--lr-factor", "0.5", "--lr-min", "0.02"], [0.2, 0.2, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02]),
            ("cosine", ["--lr-min", "0.02"], (0..<9).map { 0.02 + 0.18 * (1 + cos(Double.pi * Double($0) / 9)) / 2 }),
        ]
        for (name, options, expected) in cases {
            let run = folder.appendingPathComponent(name)
            try train(ranks: 1, [csv, "--epochs", "9", "--lr-schedule", name, "--run-dir", run.path] + options + Self.fast)
            let rates = try metrics(run).map { $0.learningRate ?? .nan }
            #expect(rates.count == 9 && zip(rates, expected).allSatisfy { abs($0 - $1) <= 1e-12 }, "\(name): \(rates)")
        }
        // Plateau: halved each time 2 epochs pass without a lower validation error, as the log's errors say.
        let run = folder.appendingPathComponent("plateau")
        let outcome = try train(ranks: 1, [csv, "--epochs", "15", "--lr-schedule", "plateau", "--lr-patience", "2", "--run-dir", run.path] + Self.fast)
        let history = try metrics(run)
        var (rate, best, wait) = (0.2, Double.infinity, 0)
        for epoch in history {
            #expect(epoch.learningRate == rate, "epoch \(epoch.epoch): \(epoch.learningRate ?? .nan), expected \(rate)")
            let error = try #require(epoch.validationMSE)
            if error < best { (best, wait) = (error, 0) } else { wait += 1 }
            if wait == 2 { (rate, wait) = (rate * 0.5, 0) }
        }
        #expect(rate < 0.2 && outcome.stdout.contains("learning rate"), "the plateau lowered the rate at least once")
    }

    @Test func aResumedRunWithTheFitPolicyEndsBitIdentical() throws {
        let (folder, csv, _) = try plantedData(rows: 40)
        let common = [csv, "--epochs", "16", "--ensemble", "2", "--patience", "6", "--lr-schedule", "plateau", "--lr-patience", "2",
                      "--checkpoint-every", "1", "--validation-split", "per-member"] + Self.fast  // the members' own splits stop them apart
        let whole = folder.appendingPathComponent("whole"), parts = folder.appendingPathComponent("parts")
        try train(ranks: 2, common + ["--run-dir", whole.path])
        try train(ranks: 2, common + ["--run-dir", parts.path, "--halt-after-epoch", "7"])
        try train(ranks: 2, common + ["--resume", parts.path])
        let (a, b) = (try metrics(whole), try metrics(parts))
        // The members stop at different epochs (one of them at the halt), and the ensemble is still gathered.
        let lengths = [0, 1].map { member in a.filter { $0.member == member }.count }
        #expect(lengths[0] != lengths[1] && lengths.allSatisfy { $0 < 16 } && lengths.contains(7), "epochs trained: \(lengths)")
        #expect(a.map(\.epoch) == b.map(\.epoch) && a.map(\.learningRate) == b.map(\.learningRate) && a.map(\.validationMSE) == b.map(\.validationMSE))
        for member in [0, 1] {
            #expect(try memberParameters(whole, member: member) == memberParameters(parts, member: member), "member \(member)")
            #expect(try trainingRecord(whole, member: member)?.keptEpoch == trainingRecord(parts, member: member)?.keptEpoch)
        }
        // A resume that changes the policy is refused, naming the option.
        let changed = try train(ranks: 2, common.map { $0 == "6" ? "7" : $0 } + ["--resume", parts.path], expectSuccess: false, timeout: 60)
        #expect(changed.status != 0 && changed.stderr.contains("--patience: this run 7"), "\(changed.stderr.suffix(800))")
    }

    @Test func withoutAValidationSetBestIsLastAndWatchingIsRefused() throws {
        let (folder, csv, _) = try plantedData(rows: 30)
        let run = folder.appendingPathComponent("run")
        let kept = try runProcess(sitelens, ["train", csv, "--epochs", "3", "--validation-fraction", "0", "--run-dir", run.path], timeout: 300)
        #expect(kept.status == 0 && kept.stdout.contains("note: --keep best keeps the last epoch's weights"), "\(kept.stdout)\(kept.stderr)")
        #expect(try trainingRecord(run)?.keptEpoch == 3)
        let refused = [["--patience", "2"], ["--lr-schedule", "plateau"]].map { extra in
            try? runProcess(sitelens, ["train", csv, "--validation-fraction", "0", "--run-dir", folder.appendingPathComponent("no").path] + extra, timeout: 120)
        }
        for outcome in refused {
            #expect(outcome?.status != 0 && outcome?.stderr.contains("watches the validation error") == true, "\(outcome?.stderr ?? "")")
        }
        let misplaced = try runProcess(sitelens, ["train", csv, "--lr-schedule", "cosine", "--lr-step-epochs", "3"], timeout: 60)
        #expect(misplaced.status != 0 && misplaced.stderr.contains("--lr-step-epochs applies to --lr-schedule step, not cosine"), "\(misplaced.stderr)")
    }
}
