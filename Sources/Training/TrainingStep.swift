import Networks

/// Error sums of the samples one rank saw in a step (normalised units), and the seconds spent
/// waiting for the gradient all-reduce.
struct StepLosses {
    var sumSquared = 0.0
    var sumAbsolute = 0.0
    var reduceSeconds = 0.0

    static func += (a: inout StepLosses, b: StepLosses) {
        a.sumSquared += b.sumSquared
        a.sumAbsolute += b.sumAbsolute
        a.reduceSeconds += b.reduceSeconds
    }
}

extension MemberTrainer {
    /// One optimiser step on one global batch (positions into `train`), as a PyTorch DDP loop
    /// reads: zero the gradients; forward, loss and backward of this rank's samples, the
    /// gradients' all-reduce over the group starting bucket by bucket during the last chunk's
    /// backward (`plan.gradientReduction`); wait for it; update the parameters.
    ///
    /// The loss is divided by the global batch size, so the group's sum is the gradient of the
    /// global batch mean. By default this rank's samples go through the network at once (in
    /// chunks within the activation budget), which groups the Float sums by rank: rank counts
    /// then agree to rounding. `plan.reproducible` takes one structure at a time instead, so a
    /// structure's gradient is computed the same way whichever rank owns it and the Double sums
    /// keep any rank count bit-identical (see `GradientAccumulator`).
    func takeStep(_ batch: [Int]) throws -> StepLosses {
        var losses = StepLosses()
        gradients.zero()
        // This rank's structures of the batch, each fetched (perhaps rasterised) once, go through
        // the network in chunks within the activation budget (reproducible: one at a time).
        let limit = plan.reproducible ? 1 : network.itemsWithin(bytes: plan.activationBudget)
        let mine = try batch.filter { shard.owns(position: $0) }.map { position in (index: train[position], sample: try samples.sample(train[position])) }
        let chunks = balancedChunks(itemCounts: mine.map(\.sample.itemCount), limit: limit)
        for (number, chunk) in chunks.enumerated() {
            losses += try accumulate(Array(mine[chunk]), batchSize: batch.count, last: number == chunks.count - 1)
        }
        // What is left of the all-reduce after backward: the time it did not hide.
        let reduceStart = ContinuousClock.now
        try gradients.reduce()
        losses.reduceSeconds = (ContinuousClock.now - reduceStart).seconds
        let gradient = gradients.reducedGradient()
        try checkGradient(gradient, epoch: state.epoch + 1)
        state.update(with: gradient)
        if plan.checksumEvery > 0 && state.step % plan.checksumEvery == 0 { try verifyChecksum(label: "step \(state.step)") }
        return losses
    }

    /// Forward, loss and backward of some structures in one pass; their gradient goes into
    /// the accumulator, which on the step's `last` chunk starts reducing it during backward.
    private func accumulate(_ structures: [(index: Int, sample: EncodedStructure)], batchSize: Int, last: Bool) throws -> StepLosses {
        let counts = structures.map(\.sample.itemCount)
        let items = counts.reduce(0, +)
        // One structure trains on its encoding in place; several are laid end to end in the
        // buffer kept across steps.
        if structures.count > 1 {
            chunkInput.removeAll(keepingCapacity: true)
            for structure in structures { chunkInput.append(contentsOf: structure.sample.values) }
        }
        let values = structures.count == 1 ? structures[0].sample.values : chunkInput
        let loss = squaredErrorGradient(predictions: try predict(values, counts: counts), targets: structures.map { target($0.index) },
                                        denominator: batchSize)
        // dE/d(item output) = 1: every item of a structure gets its structure's gradient.
        let itemGradient = zip(loss.gradient, counts).flatMap { Array(repeating: $0, count: $1) }
        try gradients.add(last: last) { scratch, afterLayer in
            try values.withUnsafeBufferPointer { input in
                try state.parameters.withUnsafeBufferPointer { p in
                    try network.backward(itemGradient, input: input.baseAddress!, items: items, parameters: p.baseAddress!,
                                         gradients: scratch, afterLayer: afterLayer)
                }
            }
        }
        return StepLosses(sumSquared: loss.sumSquared, sumAbsolute: loss.sumAbsolute)
    }
}

/// Consecutive chunks of structures with `itemCounts` items each, as few as `limit` items a chunk
/// allows and as even as the counts allow: 32 images with room for 31 make two chunks of 16, not
/// 31 and 1 (a pass of one item runs the convolutions far below their speed). A structure with
/// more items than `limit` is a chunk alone.
func balancedChunks(itemCounts: [Int], limit: Int) -> [Range<Int>] {
    let total = itemCounts.reduce(0, +), most = max(limit, 1)
    let count = max(1, (total + most - 1) / most)
    let target = (total + count - 1) / count
    var chunks: [Range<Int>] = []
    var (start, items) = (0, 0)
    for (position, itemCount) in itemCounts.enumerated() {
        if position > start && items + itemCount > target {
            chunks.append(start..<position)
            (start, items) = (position, 0)
        }
        items += itemCount
    }
    if start < itemCounts.count { chunks.append(start..<itemCounts.count) }
    return chunks
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
