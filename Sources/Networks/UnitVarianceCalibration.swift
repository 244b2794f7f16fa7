/// The data-dependent part of `--init lsuv` (layer-sequential unit variance, after Mishkin &
/// Matas 2016): starting from He's seeded draw (biases zero), each layer in turn is run on one
/// fixed batch of the member's training items and its weights are multiplied by one factor so
/// that its pre-activation has variance 1 over the batch (every item, position and channel).
///
/// Why: He's scale assumes every kernel tap sees data. In the six-block `ryczko` CNN at grid 32,
/// 4×4 kernels on 1×1 and 2×2 maps see mostly padding, so the signal shrinks about 2.5× a block
/// until the output is the same for every structure (Docs/Method.md); scaling by what each layer
/// actually gives keeps it alive at any depth.
///
/// Two departures from the paper, both measured (Docs/Benchmarks.md, "Dead members"):
/// - The last (identity) layer gets standard deviation `outputStandardDeviation`, not 1, and its
///   bias centres it: the untrained network then predicts about the training mean (the
///   normalised targets have mean 0, spread 1) instead of adding noise as large as the targets'
///   spread. At 1, fewer members learned on EMT slabs and those that did generalised worse.
/// - A ReLU layer with no positive pre-activation anywhere on the batch (dead, so no factor can
///   revive it) has each channel's mean removed by its bias, so about half its values are active.
///   Centring every layer this way measured worse (EMT ensemble MAE 2× larger), so only then.
///
/// Runs on the im2col backend (OpenBLAS), whatever backend trains: the factors then do not
/// depend on a library's choice of algorithm. Training calls it on each group's root only and
/// broadcasts the result, so every rank and every rank count starts from the same weights.
public enum UnitVarianceCalibration {
    /// Structures in the calibration batch (`TrainingPlan.calibrationBatch` picks them): enough
    /// for stable statistics, few enough to cost less memory than a training step.
    public static let batchStructures = 32

    /// The last layer's standard deviation on the batch, in normalised target units.
    public static let outputStandardDeviation = 0.1

    /// Below this pre-activation variance a layer is left unscaled (its input carries nothing).
    static let smallestVariance = 1e-24

    /// Calibrates `parameters` (He's draw for `architecture`) in place on `input`, `items`
    /// items of `architecture.itemSize` values each, and returns each computing layer's factor
    /// (1 where the layer's pre-activation was constant on the batch).
    @discardableResult
    public static func calibrate(_ parameters: inout [Float], architecture: Architecture, input: [Float], items: Int) throws -> [Double] {
        precondition(items > 0 && input.count == items * architecture.itemSize, "a calibration batch of \(items) items")
        var linear = architecture
        linear.layers = architecture.layers.map(\.withoutActivation)
        let network = try Network(architecture, convolutionBackend: .im2col)
        let preActivations = try Network(linear, convolutionBackend: .im2col)
        guard network.parameterCount == parameters.count else {
            throw NetworkError("calibration: \(parameters.count) parameters for a network of \(network.parameterCount)")
        }
        var current = input
        var factors: [Double] = []
        for (l, (kernel, linearKernel)) in zip(network.kernels, preActivations.kernels).enumerated() {
            let layer = kernel.parameters
            if let bias = layer.bias { parameters.replaceSubrange(bias, with: repeatElement(0, count: bias.count)) }
            var z = [Float](repeating: 0, count: items * kernel.outputSize)
            try current.withUnsafeBufferPointer { x in
                try parameters.withUnsafeBufferPointer { p in
                    try z.withUnsafeMutableBufferPointer { try linearKernel.forward(x.baseAddress!, into: $0.baseAddress!, items: items, parameters: p.baseAddress!) }
                }
            }
            let last = l == network.kernels.count - 1
            let dead = kernel.activation == .relu && !z.contains { $0 > 0 }
            let centres = layer.bias != nil && (last || dead)
            let channels = layer.weights.count / max(layer.fanIn, 1)
            let statistics = ChannelStatistics(z, channels: channels, centredPerChannel: centres)
            let target = last ? outputStandardDeviation : 1
            let factor = statistics.variance > smallestVariance ? target / statistics.variance.squareRoot() : 1
            for i in layer.weights { parameters[i] = Float(Double(parameters[i]) * factor) }
            let shift = centres ? statistics.means.map { Float(factor * $0) } : [Float](repeating: 0, count: channels)
            if let bias = layer.bias, centres {
                for (c, i) in bias.enumerated() { parameters[i] = -shift[c] }
            }
            // The next layer's input: this layer's output with the new weights, from z.
            for i in z.indices { z[i] = Float(factor) * z[i] - shift[i % channels] }
            z.withUnsafeMutableBufferPointer { activate($0.baseAddress!, count: $0.count, kernel.activation) }
            current = z
            factors.append(factor)
        }
        return factors
    }
}

/// Per-channel means and the variance of a channels-last batch of pre-activations, in Double.
struct ChannelStatistics {
    let means: [Double]
    /// About each channel's own mean when `centredPerChannel` (its bias will remove that mean),
    /// else about the mean of all values.
    let variance: Double

    init(_ values: [Float], channels: Int, centredPerChannel: Bool) {
        precondition(channels > 0 && values.count % channels == 0 && !values.isEmpty)
        let rows = values.count / channels
        var sums = [Double](repeating: 0, count: channels)
        for (i, value) in values.enumerated() { sums[i % channels] += Double(value) }
        means = sums.map { $0 / Double(rows) }
        let overall = sums.reduce(0, +) / Double(values.count)
        var squares = 0.0
        for (i, value) in values.enumerated() {
            let d = Double(value) - (centredPerChannel ? means[i % channels] : overall)
            squares += d * d
        }
        variance = squares / Double(values.count)
    }
}

extension LayerSpec {
    /// The same layer with an identity activation (what it computes before its nonlinearity).
    var withoutActivation: LayerSpec {
        switch self {
        case .flatten: return .flatten
        case .dense(let units, _, let bias): return .dense(units: units, activation: .identity, bias: bias)
        case .conv(let filters, let kernel, let stride, _, let bias):
            return .conv(filters: filters, kernel: kernel, stride: stride, activation: .identity, bias: bias)
        }
    }
}
