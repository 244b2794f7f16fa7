@testable import Basics
import Foundation
import Testing
import TestSupport
@testable import Training

/// The 95 % interval's maths, bagging's splits, and members that did not learn (issue 25).
@Suite struct UncertaintyTests {
    @Test func studentTQuantilesMatchTheirClosedForms() {
        // ν = 1 is Cauchy: tan(π(p − ½)); ν = 2: (2p − 1) / √(2p(1 − p)); ν → ∞: the normal's 1.95996.
        for p in [0.75, 0.9, 0.975] {
            #expect(abs(StudentT.quantile(p, degreesOfFreedom: 1) - tan(Double.pi * (p - 0.5))) < 1e-3 * tan(Double.pi * (p - 0.5)))
            #expect(abs(StudentT.quantile(p, degreesOfFreedom: 2) - (2 * p - 1) / (2 * p * (1 - p)).squareRoot()) < 1e-4)
        }
        #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: .infinity) - 1.959964) < 1e-4)
        #expect(StudentT.quantile(0.975, degreesOfFreedom: 3) > StudentT.quantile(0.975, degreesOfFreedom: 30))
    }

    /// Validation and test structures where K members scatter with std 1 around a centre and the
    /// truth scatters `truthWidth` around it: (targets, means, stds).
    func ensembleDraws(_ count: Int, members: Int, truthWidth: Double, seed: UInt64) -> ([Double], [Double], [Double]) {
        var generator = SeededGenerator(seed: seed)
        var result: ([Double], [Double], [Double]) = ([], [], [])
        for _ in 0..<count {
            let centre = generator.uniform(-5, 5)
            let predictions = (0..<members).map { _ in centre + generator.nextGaussian() }
            let mean = predictions.reduce(0, +) / Double(members)
            let std = (predictions.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(members - 1)).squareRoot()
            result.0.append(centre + truthWidth * generator.nextGaussian())
            result.1.append(mean)
            result.2.append(std)
        }
        return result
    }

    func coverage(_ draws: ([Double], [Double], [Double]), _ calibration: IntervalCalibration) -> Double {
        let inside = draws.0.indices.filter { i in
            let half = calibration.halfWidth(std: draws.2[i]) ?? 0
            return abs(draws.0[i] - draws.1[i]) <= half
        }
        return Double(inside.count) / Double(draws.0.count)
    }

    @Test(arguments: [1.0, 4.0])
    func aScaleFittedOnValidationCoversNinetyFivePercentOfNewStructures(truthWidth: Double) {
        let validation = ensembleDraws(400, members: 4, truthWidth: truthWidth, seed: 1)
        let test = ensembleDraws(4000, members: 4, truthWidth: truthWidth, seed: 2)
        let fitted = IntervalCalibration.fitted(targets: validation.0, means: validation.1, stds: validation.2, members: 4)
        let uncalibrated = IntervalCalibration(scale: 1, structures: 0, members: 4)
        #expect(fitted.structures == 400)
        #expect((0.92...0.98).contains(coverage(test, fitted)), "calibrated coverage \(coverage(test, fitted)), scale \(fitted.scale)")
        if truthWidth > 1 {
            // The members agree with each other four times more closely than with the truth.
            #expect(coverage(test, uncalibrated) < 0.75, "uncalibrated coverage \(coverage(test, uncalibrated))")
            #expect(fitted.scale > 2)
        } else {
            #expect(abs(fitted.scale - 1) < 0.15, "a truth like one more member needs no scale: \(fitted.scale)")
        }
    }

    /// Errors with heavy tails beside the spread (most structures like one more member, one in
    /// six eight times farther off): matching the median's |z| undercovers them, the conformal
    /// quantile does not.
    @Test func theConformalScaleCoversHeavyTailedErrorsWhereTheMedianDoesNot() throws {
        func draws(_ count: Int, seed: UInt64) -> ([Double], [Double], [Double]) {
            var calm = ensembleDraws(count, members: 4, truthWidth: 1, seed: seed)
            let wild = ensembleDraws(count, members: 4, truthWidth: 8, seed: seed + 100)
            for i in stride(from: 0, to: count, by: 6) { (calm.0[i], calm.1[i], calm.2[i]) = (wild.0[i], wild.1[i], wild.2[i]) }
            return calm
        }
        let (validation, test) = (draws(300, seed: 11), draws(6000, seed: 12))
        let conformal = IntervalCalibration.fitted(targets: validation.0, means: validation.1, stds: validation.2, members: 4)
        #expect(conformal.estimator == .conformal && conformal.structures == 300)
        #expect((0.93...0.98).contains(coverage(test, conformal)), "conformal coverage \(coverage(test, conformal)), scale \(conformal.scale)")
        let inflation = (1 + 1 / 4.0).squareRoot()
        let z = validation.0.indices.map { abs(validation.0[$0] - validation.1[$0]) / (validation.2[$0] * inflation) }
        let byMedian = IntervalCalibration(scale: try #require(median(z)) / StudentT.quantile(0.75, degreesOfFreedom: 3), structures: 300, members: 4, estimator: .median)
        #expect(coverage(test, byMedian) < 0.92, "the median's scale \(byMedian.scale) covers \(coverage(test, byMedian))")
    }

    @Test func betweenFiveAndEighteenStructuresTheMedianSetsTheScale() {
        let few = ensembleDraws(IntervalCalibration.conformalStructures - 1, members: 4, truthWidth: 3, seed: 4)
        let calibration = IntervalCalibration.fitted(targets: few.0, means: few.1, stds: few.2, members: 4)
        #expect(calibration.estimator == .median && calibration.structures == 18)
        #expect(calibration.summary.contains("too few for the conformal quantile"), "\(calibration.summary)")
        let enough = ensembleDraws(IntervalCalibration.conformalStructures, members: 4, truthWidth: 3, seed: 4)
        let conformal = IntervalCalibration.fitted(targets: enough.0, means: enough.1, stds: enough.2, members: 4)
        // n = 19: the quantile's rank ⌈0.95 · 20⌉ = 19 is the largest |z|, so every validation structure is inside.
        #expect(conformal.estimator == .conformal)
        #expect(coverage(enough, conformal) == 1, "\(coverage(enough, conformal))")
    }

    @Test func tooFewValidationStructuresLeaveTheIntervalUncalibrated() {
        let few = ensembleDraws(IntervalCalibration.minimumStructures - 1, members: 3, truthWidth: 5, seed: 3)
        let calibration = IntervalCalibration.fitted(targets: few.0, means: few.1, stds: few.2, members: 3)
        #expect(calibration.scale == 1 && calibration.structures == 0)
        #expect(calibration.summary.contains("not calibrated"))
        #expect(IntervalCalibration(scale: 1, structures: 0, members: 1).halfWidth(std: 1) == nil)
    }

    @Test func spearmanRanksWithTies() {
        #expect(spearmanCorrelation([1, 2, 3, 4], [10, 20, 30, 400]) == 1)
        #expect(spearmanCorrelation([1, 2, 3, 4], [4, 3, 2, 1]) == -1)
        #expect(ranks([5, 1, 5, 2]) == [3.5, 1, 3.5, 2])
        #expect(spearmanCorrelation([1, 1, 1], [1, 2, 3]) == nil)
    }

    @Test func bootstrapResamplesDependOnSeedAndMemberOnly() {
        var plan = TrainingPlan()
        plan.bootstrap = true
        plan.seed = 5
        plan.ensemble = 3
        let count = 200
        let test = Set(plan.testSet(count: count))
        let (train0, validation0) = plan.split(count: count, member: 0)
        let (train1, validation1) = plan.split(count: count, member: 1)
        #expect(validation0 == validation1, "every member holds out the same validation set")
        let pool = (0..<count).filter { !test.contains($0) && !Set(validation0).contains($0) }
        #expect(train0.count == pool.count && train0.allSatisfy(Set(pool).contains))
        #expect(Set(train0).count < train0.count, "a resample draws some structures twice")
        #expect(train0 != train1)
        // Other settings that shape training (ensemble size, batch) do not change a member's resample.
        var other = plan
        other.ensemble = 7
        other.batchSize = 3
        #expect(other.split(count: count, member: 1).train == train1)
        plan.seed = 6
        #expect(plan.split(count: count, member: 1).train != train1)
        // With per-member validation the members hold out different structures, and resample the rest.
        plan.sharedValidation = false
        #expect(plan.split(count: count, member: 0).validation != plan.split(count: count, member: 1).validation)
        let own = plan.split(count: count, member: 0)
        #expect(Set(own.train).isDisjoint(with: own.validation) && Set(own.train).count < own.train.count)
    }
}

/// Bagged training under mpirun, and members planted dead.
@Suite(.serialized) struct EnsembleCheckRunTests {
    @Test func aBootstrappedMemberEndsTheSameOnOneAndTwoRanks() throws {
        let (folder, csv, _) = try plantedData(rows: 37)
        let options = [csv, "--epochs", "2", "--batch-size", "8", "--seed", "11", "--reproducible", "--bootstrap", "on"]
        var results: [[Float]] = []
        for ranks in [1, 2] {
            let run = folder.appendingPathComponent("run\(ranks)")
            try train(ranks: ranks, options + ["--run-dir", run.path])
            results.append(try memberParameters(run))
            let record = try RunRecord.read(from: RunFolder(path: run.path))
            #expect(record.bootstrap == true && record.sharedValidation == true)
        }
        let difference = zip(results[0], results[1]).map { abs($0 - $1) / max(abs($0), 1e-3) }.max() ?? .infinity
        #expect(difference <= 1e-5, "1 and 2 ranks differ by \(difference)")
    }

    @Test func aMemberThatDidNotLearnIsLeftOutAndRecorded() throws {
        let (folder, csv, _) = try plantedData(rows: 120)
        let run = folder.appendingPathComponent("run")
        let outcome = try train(ranks: 2, [csv, "--ensemble", "3", "--epochs", "150", "--seed", "2", "--test-frozen-members", "1",
                                           "--run-dir", run.path])
        #expect(outcome.stdout.contains("warning: member 1 did not learn"), "\(outcome.stdout.suffix(1500))")
        let record = try RunRecord.read(from: RunFolder(path: run.path))
        #expect(record.excludedMembers?.map(\.member) == [1])
        let header = try String(contentsOf: run.appendingPathComponent("predictions.csv"), encoding: .utf8).prefix { $0 != "\n" }
        #expect(header.hasSuffix("lo95,hi95,member_0,member_2"), "\(header)")
        let out = folder.appendingPathComponent("predicted.csv")
        let predicted = try runProcess(sitelens, ["predict", "--run", run.path, csv, "--out", out.path])
        #expect(predicted.status == 0, "\(predicted.stderr)")
        #expect(predicted.stdout.contains("ensemble of 2"), "\(predicted.stdout)")
        #expect(predicted.stdout.contains("validation structures no kept member trained on"), "\(predicted.stdout)")
    }

    @Test func whenNoMemberLearnedAllAreKeptAndTheRunSaysSo() throws {
        let (folder, csv, _) = try plantedData(rows: 60)
        let run = folder.appendingPathComponent("run")
        let outcome = try train(ranks: 2, [csv, "--ensemble", "2", "--epochs", "2", "--test-frozen-members", "0,1", "--run-dir", run.path])
        #expect(outcome.stdout.contains("every member is kept, but this ensemble has not learned"), "\(outcome.stdout.suffix(1500))")
        #expect(try RunRecord.read(from: RunFolder(path: run.path)).excludedMembers == [])
    }
}
