import Basics

/// How a network's weights start (biases always start at zero, as in Keras).
public enum WeightInitialisation: String, Codable, Sendable, CaseIterable {
    /// He-uniform (limit √(6/fan_in)) for ReLU layers, Glorot-uniform for the others: keeps the
    /// signal's variance through deep ReLU stacks such as the seed's six-block CNN.
    case he
    /// Glorot-uniform (limit √(6/(fan_in + fan_out))) everywhere: Keras's default, to match it exactly.
    case glorot
    /// Layer-sequential unit variance (after Mishkin & Matas 2016): He's draw, then each layer in
    /// turn scaled on a batch of the member's own training items so that its pre-activation has
    /// unit variance, each channel's mean shifted to 0 by its bias (`UnitVarianceCalibration`).
    /// He alone lets the six-block `ryczko` CNN's signal die on small grids (Docs/Method.md).
    case lsuv

    /// Whether the scheme needs training data after the seeded draw (`UnitVarianceCalibration`).
    public var calibratesOnData: Bool { self == .lsuv }
}

/// Draws a network's initial parameters from a seeded generator: the same seed and scheme give
/// the same parameters on any machine.
public struct Initialiser: Sendable {
    public let scheme: WeightInitialisation

    public init(_ scheme: WeightInitialisation = .he) { self.scheme = scheme }

    /// The uniform limit of one layer's weights under this scheme.
    func limit(fanIn: Int, fanOut: Int, activation: Activation) -> Double {
        if scheme != .glorot && activation == .relu { return (6.0 / Double(max(fanIn, 1))).squareRoot() }
        return (6.0 / Double(max(fanIn + fanOut, 1))).squareRoot()
    }

    /// Every layer's weights drawn in layer order from one stream, biases zero (for `lsuv`, the
    /// draw its calibration starts from).
    public func parameters(for network: Network, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed, stream: 0x5EED)
        var parameters = [Float](repeating: 0, count: network.layout.count)
        for kernel in network.kernels {
            let ranges = kernel.parameters
            let bound = limit(fanIn: ranges.fanIn, fanOut: ranges.fanOut, activation: kernel.activation)
            for i in ranges.weights { parameters[i] = Float(generator.uniform(-bound, bound)) }
        }
        return parameters
    }
}
