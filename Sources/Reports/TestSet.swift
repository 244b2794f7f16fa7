import Basics
import Decomposition
import Foundation
import Training

/// Errors on the ensemble's test set: of the ensemble mean, and of each member alone (eV).
public struct TestMetrics: Codable, Sendable {
    public struct Errors: Codable, Sendable {
        public let mae: Double
        public let rmse: Double
    }
    public let structures: Int
    public let ensembleMean: Errors
    public let members: [Errors]
    /// Predicting the training targets' mean for every test structure: the baseline a model must beat.
    public let meanBaseline: Errors
    /// Whether the ensemble's spread says where it errs (nil with one member).
    public let uncertainty: UncertaintyMetrics?

    /// How the spread and the 95 % interval fare on the test set. Spearman's correlation does
    /// not change with the calibration (a constant scale keeps every rank), so it is given once.
    public struct UncertaintyMetrics: Codable, Sendable {
        /// Spearman's rank correlation of std with |error| (nil when undefined, e.g. constant std).
        public let spearmanStdError: Double?
        /// Share of test structures within mean ± 2 std: the uncalibrated spread taken at face value.
        public let coverageTwoStd: Double
        /// Share within [lo95, hi95] (nil without an interval).
        public let coverage95: Double?
        public let calibration: IntervalCalibration?
    }

    /// Nil when there is no test structure with a target.
    public init?(_ predictions: [EnsemblePrediction], roles: DataRoles, calibration: IntervalCalibration? = nil) {
        let tested = roles.test.map { predictions[$0] }.filter { $0.target != nil }
        guard let first = tested.first else { return nil }
        func errors(_ predicted: (EnsemblePrediction) -> Double) -> Errors {
            let residuals = tested.map { predicted($0) - ($0.target ?? .nan) }
            return Errors(mae: residuals.map(abs).reduce(0, +) / Double(residuals.count),
                          rmse: (residuals.map { $0 * $0 }.reduce(0, +) / Double(residuals.count)).squareRoot())
        }
        let testSet = Set(roles.test)
        let seenTargets = predictions.filter { !testSet.contains($0.index) }.compactMap(\.target)
        let baseline = seenTargets.reduce(0, +) / Double(max(seenTargets.count, 1))
        structures = tested.count
        ensembleMean = errors(\.mean)
        members = first.members.indices.map { m in errors { $0.members[m] } }
        meanBaseline = errors { _ in baseline }
        uncertainty = Self.uncertainty(of: tested, calibration: calibration)
    }

    static func uncertainty(of tested: [EnsemblePrediction], calibration: IntervalCalibration?) -> UncertaintyMetrics? {
        guard let first = tested.first, first.members.count >= 2 else { return nil }
        let errors = tested.map { abs($0.mean - ($0.target ?? .nan)) }
        let withinTwo = tested.indices.filter { errors[$0] <= 2 * tested[$0].std }.count
        let bounded = tested.compactMap { p in p.lo95.flatMap { lo in p.hi95.map { (lo, $0, p.target ?? .nan) } } }
        let within95 = bounded.filter { $0.2 >= $0.0 && $0.2 <= $0.1 }.count
        return UncertaintyMetrics(spearmanStdError: spearmanCorrelation(tested.map(\.std), errors),
                                  coverageTwoStd: Double(withinTwo) / Double(tested.count),
                                  coverage95: bounded.isEmpty ? nil : Double(within95) / Double(bounded.count), calibration: calibration)
    }

    /// An ensemble has learnt only when its test MAE is below this share of predicting the
    /// training mean's: from 0.9 of it up, it predicts little beyond the mean, whatever it fitted.
    public static let learntBelowShareOfMean = 0.9

    /// Whether the ensemble mean's test MAE is clearly below the training mean's (`learntBelowShareOfMean`).
    public var learnt: Bool { ensembleMean.mae < Self.learntBelowShareOfMean * meanBaseline.mae }

    /// One line for the console.
    public var summary: String {
        let memberMAE = Spread(members.map(\.mae))
        return "test set (\(structures) structures no member saw): ensemble-mean MAE \(format(ensembleMean.mae)) RMSE \(format(ensembleMean.rmse)) eV; "
            + "members MAE \(format(memberMAE.mean)) ± \(format(memberMAE.std)) eV; predicting the training mean: MAE \(format(meanBaseline.mae)) eV"
            + (uncertainty.map { "\n" + $0.summary } ?? "")
    }

    private func format(_ x: Double) -> String { String(format: "%.4f", x) }
}

extension TestMetrics.UncertaintyMetrics {
    /// One line for the console.
    public var summary: String {
        func percent(_ x: Double) -> String { "\(Int((x * 100).rounded())) %" }
        let rank = spearmanStdError.map { String(format: "%.2f", $0) } ?? "undefined"
        var line = "test uncertainty: Spearman(std, |error|) \(rank); within mean ± 2 std (uncalibrated) \(percent(coverageTwoStd))"
        if let coverage95 {
            let fitted = calibration.map { $0.structures > 0 ? "calibrated (\($0.estimator?.rawValue ?? "median")), scale \(String(format: "%.3g", $0.scale)) on \($0.structures) validation structures" : "not calibrated" } ?? ""
            line += "; within [lo95, hi95] (\(fitted)) \(percent(coverage95))"
        }
        return line
    }
}
