import Testing
@testable import Networks

/// The optimiser owns its list of state buffers: checkpoints and broadcasts take it from
/// `stateBuffers` and `OptimizerKind.stateBufferNames`, so both must agree with the state
/// `update` actually uses.
struct OptimizerStateTests {
    @Test(arguments: OptimizerKind.allCases)
    func aFreshOptimiserHasOneZeroBufferPerName(kind: OptimizerKind) {
        let optimizer = Optimizer(kind: kind, parameterCount: 7)
        #expect(optimizer.stateBuffers.count == kind.stateBufferNames.count)
        #expect(optimizer.stateBuffers.allSatisfy { $0 == [Float](repeating: 0, count: 7) })
        #expect(Set(kind.stateBufferNames).count == kind.stateBufferNames.count)
    }

    /// An optimiser given another's state list and step continues exactly as the other does.
    @Test(arguments: OptimizerKind.allCases)
    func stateSetFromTheListContinuesTheSameUpdates(kind: OptimizerKind) {
        var parameters: [Float] = [0.5, -0.25, 1, 2, -3, 0.125, 0.75, -1, 0.3]
        var trained = Optimizer(kind: kind, learningRate: 0.01, parameterCount: parameters.count)
        for step in 0..<3 { trained.update(&parameters, gradients: parameters.indices.map { Float($0 - step) * 0.1 }) }
        var restored = Optimizer(kind: kind, learningRate: 0.01, parameterCount: parameters.count)
        restored.stateBuffers = trained.stateBuffers
        restored.step = trained.step
        #expect(restored == trained)
        var (a, b) = (parameters, parameters)
        trained.update(&a, gradients: parameters.map { $0 * 0.2 })
        restored.update(&b, gradients: parameters.map { $0 * 0.2 })
        #expect(a == b && a != parameters)
        if kind == .adam { #expect(trained.stateBuffers == [trained.m, trained.v], "the checkpoint format's order: m, then v") }
    }

    @Test func aNegativeSquaredGradientAverageIsImpossible() {
        var optimizer = Optimizer(kind: .adam, parameterCount: 4)
        #expect(optimizer.impossibleState == nil)
        optimizer.stateBuffers = [[0, -1, 0, 0], [0, 0, -0.5, 0]]
        let found = optimizer.impossibleState
        #expect(found?.buffer == "adam.v" && found?.index == 2, "\(String(describing: found))")
        #expect(Optimizer(kind: .sgd, parameterCount: 4).impossibleState == nil)
    }
}
