import Basics

extension TrainingPlan {
    /// `--bootstrap`'s default, chosen by measurement (Docs/Benchmarks.md, "Uncertainty").
    public static let defaultBootstrap = true

    /// The validation structures every member holds out under `bootstrap`: a seeded choice from
    /// the run's seed among the structures outside the test set (as many as `split` would hold
    /// out), in increasing order. No member trains on them, so the ensemble's spread can be
    /// calibrated on them (`IntervalCalibration`).
    public func sharedValidation(count: Int) -> [Int] {
        let test = Set(testSet(count: count))
        let remaining = (0..<count).filter { !test.contains($0) }
        var generator = SeededGenerator(seed: seed, stream: 0xB0A1)
        let order = generator.permutation(remaining.count).map { remaining[$0] }
        let held = min(order.count - 1, Int((validationFraction * Double(order.count)).rounded()))
        return order[..<max(held, 0)].sorted()
    }

    /// Bagging: the shared validation set, and a training list of as many draws with
    /// replacement from the other non-test structures as there are of them, in increasing order
    /// (a structure drawn twice appears twice and counts twice in every epoch). The draws follow
    /// from the run's seed and the member alone, so every rank and every rank count trains the
    /// same resample; its positions are shared out by the `Shard` rule like any training list.
    func bootstrapSplit(count: Int, member: Int) -> (train: [Int], validation: [Int]) {
        let validation = sharedValidation(count: count)
        let held = Set(validation).union(testSet(count: count))
        let pool = (0..<count).filter { !held.contains($0) }
        var generator = SeededGenerator(seed: memberSeed(member), stream: 0xB007)
        let draws = pool.indices.map { _ in pool[generator.nextIndex(below: pool.count)] }
        return (draws.sorted(), validation)
    }
}
