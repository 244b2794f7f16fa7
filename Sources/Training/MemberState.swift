import MPI
import Networks

/// Where one member's training stands: parameters, the optimiser (its kind included), the last
/// completed epoch and the step count, and the fit policy's progress with the best epoch's
/// parameters (kept only under `--keep best`). The group's root decides it (fresh or from a checkpoint)
/// and broadcasts all of it, so every rank continues from exactly the same state and the
/// broadcasts that follow can never disagree about what is sent.
struct MemberState {
    var parameters: [Float]
    var optimizer: Optimizer
    var epoch: Int
    var step: Int
    var fit = FitProgress()
    /// The parameters of `fit.bestEpoch` (nil: none kept).
    var bestParameters: [Float]? = nil

    /// One optimiser step.
    mutating func update(with gradient: [Float]) {
        optimizer.update(&parameters, gradients: gradient)
        step += 1
    }

    /// What the root sends first; the arrays follow with sizes taken from it.
    private struct Header: Codable {
        var epoch: Int, step: Int, parameterCount: Int
        var optimizer: OptimizerKind, learningRate: Float
        var fit: FitProgress, keepsBest: Bool
    }

    /// The root's state on every rank: `decide` runs on the root only.
    static func agreed(in group: Communicator, decidedByRoot decide: () throws -> MemberState) throws -> MemberState {
        let mine = group.isRoot ? try decide() : nil
        let header = try group.broadcast(mine.map {
            Header(epoch: $0.epoch, step: $0.step, parameterCount: $0.parameters.count,
                   optimizer: $0.optimizer.kind, learningRate: $0.optimizer.learningRate,
                   fit: $0.fit, keepsBest: $0.bestParameters != nil)
        }, root: 0)
        var optimizer = mine?.optimizer ?? Optimizer(kind: header.optimizer, learningRate: header.learningRate,
                                                     parameterCount: header.parameterCount)
        optimizer.step = header.step
        var parameters = mine?.parameters ?? [Float](repeating: 0, count: header.parameterCount)
        try group.broadcast(&parameters, root: 0)
        var state = optimizer.stateBuffers
        for index in state.indices { try group.broadcast(&state[index], root: 0) }
        optimizer.stateBuffers = state
        var best: [Float]?
        if header.keepsBest {
            var values = mine?.bestParameters ?? [Float](repeating: 0, count: header.parameterCount)
            try group.broadcast(&values, root: 0)
            best = values
        }
        return MemberState(parameters: parameters, optimizer: optimizer, epoch: header.epoch, step: header.step,
                           fit: header.fit, bestParameters: best)
    }
}
