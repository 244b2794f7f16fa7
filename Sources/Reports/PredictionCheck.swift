import Foundation
import Networks

/// What `predict` says about its predictions: the error against targets where the file has
/// them (MAE, RMSE, and how often the target lies within the ensemble's 2σ), and the
/// structures predicted far outside the energies the members were trained on.
public struct PredictionCheck: Sendable {
    /// Structures with a target.
    public let targetCount: Int
    public let mae: Double?
    public let rmse: Double?
    /// Share of targets within mean ± 2 std; nil with one member (no spread) or no targets.
    public let withinTwoSigma: Double?
    /// Share of targets within [lo95, hi95]; nil without an interval (one member, no calibration) or targets.
    public let withinInterval: Double?
    /// 0-based indices of predictions beyond the training energies by more than their std.
    public let farOutside: [Int]
    /// The training energies of every member together.
    public let trainedOn: (min: Double, max: Double, std: Double)?

    /// `trained` is each member's `TrainingRecord.targets` (absent in models saved before it was recorded).
    public init(_ predictions: [EnsemblePrediction], trained: [TargetSummary]) {
        let pairs = predictions.compactMap { p in p.target.map { (target: $0, p: p) } }
        targetCount = pairs.count
        let errors = pairs.map { $0.p.mean - $0.target }
        mae = pairs.isEmpty ? nil : errors.map(abs).reduce(0, +) / Double(pairs.count)
        rmse = pairs.isEmpty ? nil : (errors.map { $0 * $0 }.reduce(0, +) / Double(pairs.count)).squareRoot()
        let spread = pairs.allSatisfy { $0.p.members.count > 1 }
        withinTwoSigma = pairs.isEmpty || !spread ? nil
            : Double(pairs.filter { abs($0.p.mean - $0.target) <= 2 * $0.p.std }.count) / Double(pairs.count)
        let bounded = pairs.compactMap { pair in pair.p.lo95.flatMap { lo in pair.p.hi95.map { (pair.target, lo, $0) } } }
        withinInterval = bounded.isEmpty ? nil : Double(bounded.filter { $0.1 <= $0.0 && $0.0 <= $0.2 }.count) / Double(bounded.count)
        if let low = trained.map(\.min).min(), let high = trained.map(\.max).max(), let std = trained.map(\.std).max() {
            trainedOn = (low, high, std)
            farOutside = predictions.filter { $0.mean < low - std || $0.mean > high + std }.map(\.index)
        } else {
            trainedOn = nil
            farOutside = []
        }
    }

    /// The lines `predict` prints: errors when there are targets, a warning when some
    /// predictions extrapolate.
    public var lines: [String] {
        var lines: [String] = []
        if let mae, let rmse {
            lines.append("against the \(targetCount) target\(targetCount == 1 ? "" : "s") in the file: MAE \(format(mae)) eV, RMSE \(format(rmse)) eV; "
                         + (withinTwoSigma.map { "\(format(100 * $0, digits: 1))% of targets within the ensemble mean ± 2 std" }
                            ?? "no ensemble spread to compare with (one member)")
                         + (withinInterval.map { ", \(format(100 * $0, digits: 1))% within [lo95, hi95]" } ?? ""))
        }
        if let trainedOn, !farOutside.isEmpty {
            let shown = farOutside.prefix(5).map { "\($0 + 1)" }.joined(separator: ", ") + (farOutside.count > 5 ? ", …" : "")
            lines.append("warning: \(farOutside.count) prediction\(farOutside.count == 1 ? "" : "s") (structure \(shown)) lie more than the training "
                         + "energies' std (\(format(trainedOn.std)) eV) outside their range \(format(trainedOn.min))…\(format(trainedOn.max)) eV: "
                         + "the model extrapolates there, and its spread need not show it")
        }
        return lines
    }

    private func format(_ x: Double, digits: Int = 4) -> String { String(format: "%.\(digits)f", x) }
}
