extension Network {
    /// Multiply-adds one evaluation pass aims at: enough images that a pass is one efficient
    /// call (16 ryczko images of G = 64), few enough that the zero items padding the last pass
    /// cost little. Images larger than that take `itemMultiple` a pass, as one structure did.
    static let evaluationPassMultiplyAdds = 1 << 29
    /// Activation bytes one evaluation pass may take (by `itemsWithin`'s estimate, which also
    /// counts backward's buffers, so forward alone stays well inside).
    static let evaluationPassBytes = 256 << 20
    /// The most items one evaluation pass takes: small items (atom patches, sites) gain nothing
    /// from more, and passes of a few hundred patches ran slower on two cores (oneDNN 2.6, AVX2:
    /// 2367 atomic patches in 9 ms by 64, 16 ms by 1024, 76 ms by 128).
    static let evaluationPassItemLimit = 64

    /// The items of every forward pass of evaluation (`BatchedEvaluation`): as many as
    /// `evaluationPassMultiplyAdds` and `evaluationPassBytes` allow, at most
    /// `evaluationPassItemLimit`, a multiple of `itemMultiple` and at least one multiple (which
    /// a single structure's pass is padded to anyway). A function of the architecture and the
    /// backend only, so every path that evaluates a model runs passes of the same shape.
    public var evaluationItems: Int {
        let byCost = Self.evaluationPassMultiplyAdds / max(multiplyAddsPerItem, 1)
        let fitting = min(byCost, itemsWithin(bytes: Self.evaluationPassBytes), Self.evaluationPassItemLimit)
        return max(itemMultiple, fitting / itemMultiple * itemMultiple)
    }
}

/// Item contributions of many structures under every member of an ensemble, the items of
/// consecutive structures laid end to end and run `Network.evaluationItems` at a time (a
/// structure's items may span two passes; zero items pad the last pass). Items go through the
/// network independently, so this is `EnergyModel.contributions` of each structure up to Float
/// rounding (a pass of another shape may sum in another order).
///
/// Every pass has the one shape, and the libraries compute an item alike wherever it sits in a
/// batch of a given shape, so a structure's contributions do not depend on which structures share
/// its passes: training's evaluation, `predict` and `decompose` agree bit for bit however the
/// structures are shared out over ranks (`EvaluationTests` checks it). Memory: one pass of
/// items and the structure being added, whatever the number of structures.
public struct BatchedEvaluation {
    private let members: [EnergyModel]
    private let passItems: Int
    private let itemSize: Int
    /// Values of the items not yet run, structure after structure.
    private var pendingValues: [Float] = []
    /// Structures added and not yet completed, in order: caller's tag and item count.
    private var waiting: [(tag: Int, items: Int)] = []
    /// Per member, the outputs of the run items of the waiting structures, in order.
    private var outputs: [[Float]]

    /// Members must share one architecture (a run's members do), so they share the passes.
    public init(members: [EnergyModel]) throws {
        guard let first = members.first else { throw NetworkError("no members to evaluate") }
        guard members.allSatisfy({ $0.network.architecture == first.network.architecture }) else {
            throw NetworkError("the members to evaluate together differ in architecture")
        }
        self.members = members
        passItems = first.network.evaluationItems
        itemSize = first.network.architecture.itemSize
        outputs = Array(repeating: [], count: members.count)
        pendingValues.reserveCapacity(passItems * itemSize)
    }

    /// Adds a structure; returns the structures completed by it, in the order they were added:
    /// the caller's `tag` and the contributions per member (`EnergyModel.contributions`).
    public mutating func add(_ encoded: EncodedStructure, tag: Int) throws -> [(tag: Int, contributions: [[Double]])] {
        precondition(encoded.values.count == encoded.itemCount * itemSize, "an encoding of another item size")
        waiting.append((tag, encoded.itemCount))
        pendingValues.append(contentsOf: encoded.values)
        let fullPasses = pendingValues.count / (passItems * itemSize)
        if fullPasses > 0 {
            try run(values: fullPasses * passItems * itemSize)
        }
        return completed()
    }

    /// Runs what is left (the last pass padded with zero items); returns the structures it completes.
    public mutating func finish() throws -> [(tag: Int, contributions: [[Double]])] {
        if !pendingValues.isEmpty {
            let padded = (pendingValues.count + passItems * itemSize - 1) / (passItems * itemSize) * passItems * itemSize
            pendingValues.append(contentsOf: repeatElement(0, count: padded - pendingValues.count))
            try run(values: padded)
            pendingValues.removeAll(keepingCapacity: true)
        }
        return completed()
    }

    /// Every member over the first `count` pending values (whole passes), dropping them.
    private mutating func run(values count: Int) throws {
        let passValues = passItems * itemSize
        try pendingValues.withUnsafeBufferPointer { input in
            for (m, member) in members.enumerated() {
                for start in stride(from: 0, to: count, by: passValues) {
                    outputs[m] += try member.parameters.withUnsafeBufferPointer {
                        try member.network.forward(input.baseAddress! + start, items: passItems, parameters: $0.baseAddress!)
                    }
                }
            }
        }
        pendingValues.removeFirst(min(count, pendingValues.count))
    }

    /// The waiting structures whose items have all run, taken off the front; padding items'
    /// outputs, past every waiting structure's, are dropped once nothing waits.
    private mutating func completed() -> [(tag: Int, contributions: [[Double]])] {
        var done: [(tag: Int, contributions: [[Double]])] = []
        var used = 0
        while let next = waiting.first, used + next.items <= outputs[0].count {
            let range = used..<(used + next.items)
            done.append((next.tag, members.indices.map { members[$0].contributions(outputs: outputs[$0][range]) }))
            used += next.items
            waiting.removeFirst()
        }
        for m in outputs.indices {
            if waiting.isEmpty { outputs[m].removeAll(keepingCapacity: true) } else { outputs[m].removeFirst(used) }
        }
        return done
    }
}
