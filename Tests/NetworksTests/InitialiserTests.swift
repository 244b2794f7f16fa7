import Testing
@testable import Networks

struct InitialiserTests {
    /// He-uniform bounds ReLU layers by √(6/fan_in); other layers keep Glorot's √(6/(fan_in + fan_out)).
    @Test func heBoundsReLULayersByFanInAndGlorotBoundsTheRest() throws {
        var architecture = Architecture.atomic(patch: 9, channels: 2, filters: 4, hidden: 8)
        for scheme in WeightInitialisation.allCases {
            architecture.initialisation = scheme
            let network = try Network(architecture)
            let parameters = network.initialParameters(seed: 11)
            #expect(parameters == Initialiser(scheme).parameters(for: network, seed: 11))
            for (index, kernel) in network.kernels.enumerated() {
                let layer = kernel.parameters
                let weights = parameters[layer.weights]
                let he = (6.0 / Double(layer.fanIn)).squareRoot(), glorot = (6.0 / Double(layer.fanIn + layer.fanOut)).squareRoot()
                let limit = Float(scheme != .glorot && kernel.activation == .relu ? he : glorot)
                #expect(weights.allSatisfy { abs($0) <= limit } && weights.contains { abs($0) > 0.8 * limit }, "\(scheme) kernel \(index)")
            }
            if let bias = layer0Bias(network) { #expect(parameters[bias..<(bias + 4)].allSatisfy { $0 == 0 }) }
        }
        // Unrecorded (older model files) means He.
        architecture.initialisation = nil
        let network = try Network(architecture)
        #expect(network.initialParameters(seed: 11) == Initialiser(.he).parameters(for: network, seed: 11))
    }

    func layer0Bias(_ network: Network) -> Int? { network.kernels.first?.parameters.bias?.lowerBound }
}
