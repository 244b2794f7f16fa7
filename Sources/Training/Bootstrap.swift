import Basics

extension TrainingPlan {
    /// `--bootstrap`'s default, chosen by measurement (Docs/Benchmarks.md, "Uncertainty"):
    /// resampling cost 1–45 % in test MAE and did not cover better than a shared validation set.
    public static let defaultBootstrap = false
    /// `--validation-split`'s default: shared, so that the 95 % interval can be calibrated.
    public static let defaultSharedValidation = true

    /// The validation structures every member holds out under `sharedValidation`: a seeded
    /// choice from the run's seed among the structures outside the test set (as many as a
    /// member's own split would hold out), in increasing order. No member trains on them, so the
    /// ensemble's spread can be calibrated on them (`IntervalCalibration`).
    public func sharedValidation(count: Int) -> [Int] {
        let test = Set(testSet(count: count))
        let remaining = (0..<count).filter { !test.contains($0) }
        var generator = SeededGenerator(seed: seed, stream: 0xB0A1)
        let order = generator.permutation(remaining.count).map { remaining[$0] }
        let held = min(order.count - 1, Int((validationFraction * Double(order.count)).rounded()))
        return order[..<max(held, 0)].sorted()
    }

    /// Bagging: as many draws with replacement from `pool` (a member's training structures) as
    /// it holds, in increasing order (a structure drawn twice appears twice and counts twice in
    /// every epoch). The draws follow from the run's seed and the member alone, so every rank
    /// and every rank count trains the same resample; its positions are shared out by the
    /// `Shard` rule like any training list.
    func bootstrapResample(_ pool: [Int], member: Int) -> [Int] {
        guard !pool.isEmpty else { return pool }
        var generator = SeededGenerator(seed: memberSeed(member), stream: 0xB007)
        return pool.indices.map { _ in pool[generator.nextIndex(below: pool.count)] }.sorted()
    }
}
