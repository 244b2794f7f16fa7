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
    /// One optimiser step on one global batch (positions into `train`), as a PyTorch loop
    /// reads: zero the gradients; for each of this rank's samples, forward, loss, backward;
    /// all-reduce the gradients over the group; update the parameters.
    ///
    /// The loss is divided by the global batch size, so the group's sum is the gradient of the
    /// global batch mean. One structure at a time: a structure's gradient is computed the same
    /// way whichever rank owns it, which keeps any rank count bit-identical (see
    /// `GradientAccumulator`).
    func takeStep(_ batch: [Int]) throws -> StepLosses {
        var losses = StepLosses()
        gradients.zero()
        for position in batch where shard.owns(position: position) {
            let index = train[position]
            let sample = try samples.sample(index)
            let prediction = predict(sample.values, counts: [sample.itemCount])
            let loss = squaredErrorGradient(predictions: prediction, targets: [target(index)], denominator: batch.count)
            losses.sumSquared += loss.sumSquared
            losses.sumAbsolute += loss.sumAbsolute
            // dE/d(item output) = 1: every item of the structure gets the structure's gradient.
            let itemGradient = [Float](repeating: loss.gradient[0], count: sample.itemCount)
            gradients.add { scratch in
                sample.values.withUnsafeBufferPointer { input in
                    state.parameters.withUnsafeBufferPointer { p in
                        network.backward(itemGradient, input: input.baseAddress!, items: sample.itemCount,
                                         parameters: p.baseAddress!, gradients: scratch)
                    }
                }
            }
        }
        let reduceStart = ContinuousClock.now
        try gradients.reduce(over: group)
        losses.reduceSeconds = (ContinuousClock.now - reduceStart).seconds
        state.update(with: gradients.gradient)
        if plan.checksumEvery > 0 && state.step % plan.checksumEvery == 0 { try verifyChecksum(label: "step \(state.step)") }
        return losses
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) * 1e-18
    }
}
