import Basics
import Foundation
import Networks
import Reports
import Testing
import Training

/// What the run's tables say: numbers that read back exactly.
struct ReportsTests {
    /// A DFT total energy and a spread of magnitudes: each number written to a table reads back
    /// as the same Double (issue 20: `%.6g` wrote −1225.8363929 eV as −1225.84).
    @Test func tableNumbersReadBackExactly() throws {
        var generator = SeededGenerator(seed: 20)
        let values = [-1225.8363929, 0.1 + 0.2, 1e-12, 6.02214076e23, -0.0] + (0..<200).map { _ in
            Double.random(in: -1...1, using: &generator) * pow(10, Double(Int.random(in: -8...8, using: &generator)))
        }
        for value in values {
            #expect(Double(tableNumber(value)) == value, "\(value) written as \(tableNumber(value))")
        }
        #expect(tableNumber(-1225.8363929) == "-1225.8363929")
    }

    /// predictions.csv and a JSON file hold the same Doubles as were written.
    @Test func predictionsAndJSONReadBackExactly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let prediction = EnsemblePrediction(index: 0, target: -1225.8363929, members: [-1225.8363929, -1225.83639291234], split: "test")
        let csv = folder.appendingPathComponent("p.csv")
        try RunReport.writePredictions([prediction], to: csv)
        let row = try String(contentsOf: csv, encoding: .utf8).split(separator: "\n")[1].split(separator: ",").map(String.init)
        #expect(row.dropFirst(2).compactMap(Double.init) == [prediction.target!, prediction.mean, prediction.std] + prediction.members)
        let json = folder.appendingPathComponent("p.json")
        try writeJSON(prediction, to: json)
        let back = try sitelensJSONDecoder().decode(EnsemblePrediction.self, from: Data(contentsOf: json))
        #expect(back.members == prediction.members && back.target == prediction.target && back.mean == prediction.mean)
    }
}

/// `predict`'s check of its predictions (issue 20: 1.5 eV off with a std of 0.006 eV, and no word).
struct PredictionCheckTests {
    func prediction(_ index: Int, target: Double?, members: [Double]) -> EnsemblePrediction {
        EnsemblePrediction(index: index, target: target, members: members, split: "")
    }

    @Test func errorsAndTheShareWithinTwoSigma() throws {
        // Errors 0.1, −0.3 and 1.5 eV; spreads (sample std) 0.1, 0.1 and ~0.006 eV.
        let predictions = [prediction(0, target: -1.0, members: [-1.0, -0.8]), prediction(1, target: 2.0, members: [1.6, 1.8]),
                           prediction(2, target: 0.0, members: [1.496, 1.504]), prediction(3, target: nil, members: [5, 5])]
        let check = PredictionCheck(predictions, trained: [])
        #expect(check.targetCount == 3)
        let mae = try #require(check.mae), rmse = try #require(check.rmse)
        let expectedMAE: Double = (0.1 + 0.3 + 1.5) / 3
        let expectedRMSE: Double = ((0.01 + 0.09 + 2.25) / 3.0).squareRoot()
        #expect(abs(mae - expectedMAE) < 1e-12)
        #expect(abs(rmse - expectedRMSE) < 1e-12)
        #expect(abs(try #require(check.withinTwoSigma) - 1.0 / 3) < 1e-12)  // only the first: 0.1 ≤ 2 × 0.141
        #expect(check.lines.count == 1 && check.lines[0].contains("MAE 0.6333 eV") && check.lines[0].contains("33.3%"))
    }

    @Test func theShareWithinTheCalibratedInterval() throws {
        // Half-width with scale 1, K = 2: t(0.975, 1) · √1.5 · std = 12.706 · 1.2247 · std ≈ 15.56 std.
        let calibration = IntervalCalibration(scale: 1, structures: 20, members: 2, estimator: .conformal)
        let inside = EnsemblePrediction(index: 0, target: 0.9, members: [-0.05, 0.05], split: "", calibration: calibration)  // std 0.0707, half 1.10
        let outside = EnsemblePrediction(index: 1, target: 2.0, members: [-0.05, 0.05], split: "", calibration: calibration)
        let check = PredictionCheck([inside, outside], trained: [])
        #expect(try #require(check.withinInterval) == 0.5)
        #expect(check.lines[0].hasSuffix("50.0% within [lo95, hi95]"), "\(check.lines[0])")
        #expect(PredictionCheck([prediction(0, target: 1, members: [1, 2])], trained: []).withinInterval == nil)
    }

    @Test func noTargetsNoErrorLine() {
        let check = PredictionCheck([prediction(0, target: nil, members: [1, 2])], trained: [])
        #expect(check.mae == nil && check.withinTwoSigma == nil && check.lines.isEmpty)
    }

    @Test func oneMemberHasNoSpreadToCompare() {
        let check = PredictionCheck([prediction(0, target: 1, members: [1.5])], trained: [])
        #expect(check.withinTwoSigma == nil && check.lines[0].contains("one member"))
    }

    /// Beyond the training energies' range by more than their std: warned, naming the structure.
    @Test func extrapolationIsWarned() throws {
        let first: [Double] = [-2, -1, 0], second: [Double] = [-1.5, 0.5]
        let trained = [try #require(TargetSummary(first)), try #require(TargetSummary(second))]  // std ≤ 0.82
        let predictions = [prediction(0, target: nil, members: [0.9]), prediction(1, target: nil, members: [2.0]),
                           prediction(2, target: nil, members: [-3.5]), prediction(3, target: nil, members: [-2.5])]
        let check = PredictionCheck(predictions, trained: trained)
        #expect(check.farOutside == [1, 2])
        #expect(check.lines.count == 1 && check.lines[0].hasPrefix("warning: 2 predictions (structure 2, 3)"))
        #expect(PredictionCheck(Array(predictions[0...0] + predictions[3...3]), trained: trained).lines.isEmpty)
    }
}
