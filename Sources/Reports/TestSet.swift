import Basics
import Decomposition
import Foundation

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

    /// Nil when there is no test structure with a target.
    public init?(_ predictions: [EnsemblePrediction], roles: DataRoles) {
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
    }

    private func format(_ x: Double) -> String { String(format: "%.4f", x) }
}
