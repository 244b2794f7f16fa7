/// One scored candidate: its index in the space, the ranking score, the objective and its
/// spread, and each run's ensemble mean and std.
public struct ScoredCandidate: Sendable, Equatable, Codable {
    public let index: Int
    public let score: Double
    public let objective: Double
    public let objectiveStd: Double
    public let means: [Double]
    public let stds: [Double]

    /// Whether `self` ranks before `other`: higher score, then lower index (so ties never depend
    /// on which rank held a candidate).
    @inline(__always) public func ranksBefore(_ other: ScoredCandidate) -> Bool {
        score != other.score ? score > other.score : index < other.index
    }
}

/// The best K candidates seen, in rank order; holds at most K.
public struct TopKeeper: Sendable, Codable, Equatable {
    public static let limit = 10_000
    public let capacity: Int
    public private(set) var kept: [ScoredCandidate] = []

    public init(capacity: Int) throws {
        guard (1...Self.limit).contains(capacity) else { throw ScreenError("--top \(capacity): must be within 1...\(Self.limit)") }
        self.capacity = capacity
        kept.reserveCapacity(capacity)
    }

    /// Whether a candidate of `score` and `index` would be kept (cheap test before building one).
    @inline(__always) public func admits(score: Double, index: Int) -> Bool {
        guard kept.count == capacity, let last = kept.last else { return true }
        return score != last.score ? score > last.score : index < last.index
    }

    public mutating func offer(_ candidate: ScoredCandidate) {
        guard admits(score: candidate.score, index: candidate.index) else { return }
        var low = 0, high = kept.count
        while low < high {
            let middle = (low + high) / 2
            if kept[middle].ranksBefore(candidate) { low = middle + 1 } else { high = middle }
        }
        kept.insert(candidate, at: low)
        if kept.count > capacity { kept.removeLast() }
    }

    /// The best `capacity` of several keepers' candidates (the gather's reduction).
    public static func merged(_ keepers: [TopKeeper], capacity: Int) throws -> TopKeeper {
        var merged = try TopKeeper(capacity: capacity)
        for keeper in keepers { for candidate in keeper.kept { merged.offer(candidate) } }
        return merged
    }
}

/// An exact histogram of the objective over fixed bins on [low, high] (bounds known before the
/// scan, so every rank bins alike and counts add).
public struct ObjectiveHistogram: Sendable, Codable, Equatable {
    public static let binLimit = 100_000
    public let low: Double
    public let high: Double
    public private(set) var counts: [Int]

    public init(low: Double, high: Double, bins: Int) throws {
        guard (1...Self.binLimit).contains(bins) else { throw ScreenError("--bins \(bins): must be within 1...\(Self.binLimit)") }
        guard low.isFinite, high.isFinite, low <= high else { throw ScreenError("the objective's range [\(low), \(high)] is not finite") }
        self.low = low
        self.high = high > low ? high : low + 1e-9
        counts = [Int](repeating: 0, count: bins)
    }

    /// The bin of `value` (values a rounding outside the range go to the end bins).
    @inline(__always) public mutating func add(_ value: Double) {
        let position = (value - low) / (high - low) * Double(counts.count)
        let bin = position.isFinite ? Swift.min(Swift.max(Int(position.rounded(.down)), 0), counts.count - 1) : 0
        counts[bin] += 1
    }

    public var total: Int { counts.reduce(0, +) }

    /// Bin edges: bin k holds [edge(k), edge(k+1)).
    public func edge(_ k: Int) -> Double { low + (high - low) * Double(k) / Double(counts.count) }

    /// The sum of several histograms over the same bins.
    public static func summed(_ parts: [ObjectiveHistogram]) throws -> ObjectiveHistogram {
        guard var total = parts.first else { throw ScreenError("no histogram to sum") }
        for part in parts.dropFirst() {
            guard part.low == total.low, part.high == total.high, part.counts.count == total.counts.count else {
                throw ScreenError("histograms over different bins cannot be summed")
            }
            for k in part.counts.indices { total.counts[k] += part.counts[k] }
        }
        return total
    }
}
