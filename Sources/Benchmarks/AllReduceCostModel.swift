/// The latency–bandwidth (α–β) cost of a ring all-reduce, as `bench cluster` fits and projects
/// it: on p ranks a ring all-reduce of n bytes makes 2(p − 1) steps (reduce-scatter, then
/// all-gather), each paying the latency α and carrying n/p bytes at β seconds a byte, so
/// T = 2(p − 1)·α + 2(p − 1)/p · n·β (Thakur, Rabenseifner and Gropp 2005; Horovod's and NCCL's ring).
public struct LinkCost: Sendable, Equatable {
    /// Seconds per message.
    public var alpha: Double
    /// Seconds per byte.
    public var beta: Double

    public init(alpha: Double, beta: Double) { (self.alpha, self.beta) = (alpha, beta) }

    /// Seconds of a ring all-reduce of `bytes` over `ranks` (0 for one rank).
    public func ring(bytes: Double, ranks: Int) -> Double {
        guard ranks > 1 else { return 0 }
        let p = Double(ranks)
        return 2 * (p - 1) * alpha + 2 * (p - 1) / p * bytes * beta
    }

    /// α and β fitted by least squares to all-reduce seconds measured at several sizes on
    /// `ranks` ranks: the line T = a + b·n gives α = a / 2(p − 1) and β = b·p / 2(p − 1). A
    /// negative intercept (noise at small sizes) is taken as zero latency. Nil with fewer than
    /// two distinct sizes or fewer than two ranks.
    public static func fitted(bytes: [Double], seconds: [Double], ranks: Int) -> LinkCost? {
        guard ranks > 1, bytes.count == seconds.count, Set(bytes).count >= 2 else { return nil }
        let count = Double(bytes.count)
        let meanBytes = bytes.reduce(0, +) / count, meanSeconds = seconds.reduce(0, +) / count
        var covariance = 0.0, variance = 0.0
        for (n, t) in zip(bytes, seconds) {
            covariance += (n - meanBytes) * (t - meanSeconds)
            variance += (n - meanBytes) * (n - meanBytes)
        }
        let slope = max(covariance / variance, 0)
        let intercept = max(meanSeconds - slope * meanBytes, 0)
        let steps = 2 * Double(ranks - 1)
        return LinkCost(alpha: intercept / steps, beta: slope * Double(ranks) / steps)
    }

    /// α from the sizes below `burst` and β from those of at least 4 × `burst`: a tc tbf link
    /// lets a burst through at the host's own speed, so only small messages show the latency
    /// and only large ones the shaped rate. All sizes when either side has fewer than two.
    public static func fitted(bytes: [Double], seconds: [Double], ranks: Int, burst: Double) -> LinkCost? {
        let pairs = zip(bytes, seconds)
        let small = pairs.filter { $0.0 < burst }, large = pairs.filter { $0.0 >= 4 * burst }
        guard let latency = fitted(bytes: small.map(\.0), seconds: small.map(\.1), ranks: ranks),
              let bandwidth = fitted(bytes: large.map(\.0), seconds: large.map(\.1), ranks: ranks) else {
            return fitted(bytes: bytes, seconds: seconds, ranks: ranks)
        }
        return LinkCost(alpha: latency.alpha, beta: bandwidth.beta)
    }

    /// This cost less `other`'s (what is left when the CPU work `other` measures is taken
    /// out), never below zero.
    public func less(_ other: LinkCost) -> LinkCost {
        LinkCost(alpha: max(alpha - other.alpha, 0), beta: max(beta - other.beta, 0))
    }

    public static func + (a: LinkCost, b: LinkCost) -> LinkCost { LinkCost(alpha: a.alpha + b.alpha, beta: a.beta + b.beta) }
}

/// Step time and parallel efficiency of data-parallel training projected to many ranks (weak
/// scaling: each rank keeps its batch, so the compute per step stays that of one rank and only
/// the all-reduce grows), with no overlap credited: the all-reduce adds to the step.
public struct ScalingProjection: Sendable {
    /// Seconds of forward and backward of one rank's batch, measured on one rank.
    public var computeSeconds: Double
    /// Bytes of the gradient all-reduced each step.
    public var gradientBytes: Double
    /// The network between nodes.
    public var network: LinkCost
    /// Shared memory within a node.
    public var node: LinkCost
    /// Ranks on each node, for the hierarchical model.
    public var ranksPerNode: Int

    public init(computeSeconds: Double, gradientBytes: Double, network: LinkCost, node: LinkCost, ranksPerNode: Int) {
        (self.computeSeconds, self.gradientBytes, self.network, self.node) = (computeSeconds, gradientBytes, network, node)
        self.ranksPerNode = max(ranksPerNode, 1)
    }

    /// A ring over every rank: with consecutive ranks on a node only one ring edge per node
    /// crosses the network, but every step waits for it, so every step is priced at the network's cost.
    public func ringSeconds(ranks: Int) -> Double { network.ring(bytes: gradientBytes, ranks: ranks) }

    /// coll/han's shape: an all-reduce within each node (shared memory), a ring across one
    /// rank per node, and a broadcast back within the node (priced as a second node-level pass).
    public func hierarchicalSeconds(ranks: Int) -> Double {
        let perNode = min(ranksPerNode, ranks)
        let nodes = (ranks + perNode - 1) / perNode
        return 2 * node.ring(bytes: gradientBytes, ranks: perNode) + network.ring(bytes: gradientBytes, ranks: nodes)
    }

    /// Step seconds with an all-reduce of `allReduceSeconds`, and the parallel efficiency
    /// (one rank's step over this step).
    public func step(allReduceSeconds: Double) -> (seconds: Double, efficiency: Double) {
        let seconds = computeSeconds + allReduceSeconds
        return (seconds, computeSeconds / seconds)
    }
}
