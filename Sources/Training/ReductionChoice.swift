import MPI

/// Where a group's ranks run: on how many nodes, and the most ranks any one node holds.
public struct NodeLayout: Sendable, Equatable {
    public var nodes: Int
    public var ranksPerNode: Int

    public init(nodes: Int, ranksPerNode: Int) { (self.nodes, self.ranksPerNode) = (nodes, ranksPerNode) }

    /// The layout of `group`'s ranks (collective over `group`: MPI says which ranks share memory).
    public init(of group: Communicator) throws {
        let node = try group.splitByNode()
        nodes = Int(try group.allReduce(Int64(node.rank == 0 ? 1 : 0), op: .sum))
        ranksPerNode = Int(try group.allReduce(Int64(node.size), op: .max))
    }
}

/// What `--all-reduce auto` makes of a group, and why (printed at the start of a run):
/// - one node: one blocking all-reduce, since Open MPI's shared-memory reduction is work on the
///   cores backward runs on, which overlap only moves (Benchmarks.md);
/// - several nodes with several ranks on one, coll/han enabled: han, which reduces within each
///   node through shared memory and crosses the network once per node instead of once per rank;
/// - several nodes otherwise: buckets overlapped with backward while network cards move them,
///   unless the gradient fits one bucket, which could start only after backward (one all-reduce).
/// han is never enabled by `auto` itself: Open MPI reads it at MPI_Init, before the layout is known.
public struct ReductionChoice: Sendable {
    public let mode: GradientReduction
    public let reason: String

    public init(layout: NodeLayout, gradientBytes: Int?, hierarchicalEnabled: Bool) {
        let bucket = GradientReduction.overlapped.bucketBytes
        let across = "\(layout.nodes) nodes, up to \(layout.ranksPerNode) rank\(layout.ranksPerNode == 1 ? "" : "s") each"
        if layout.nodes <= 1 {
            (mode, reason) = (.single, "all ranks share one node")
        } else if layout.ranksPerNode > 1 && hierarchicalEnabled {
            (mode, reason) = (.han, "ranks span nodes (\(across)): coll/han reduces within each node first and crosses the network once per node")
        } else if let gradientBytes, gradientBytes <= bucket {
            (mode, reason) = (.single, "ranks span nodes (\(across)), but the \(gradientBytes)-byte gradient is one bucket: nothing to overlap")
        } else {
            let han = layout.ranksPerNode > 1
                ? "; han would also cross once per node (enable it: mpirun --mca coll_han_priority \(HierarchicalCollectives.enabledPriority), or --all-reduce han)" : ""
            (mode, reason) = (.overlapped, "ranks span nodes (\(across)): buckets overlap the transfer with backward\(han)")
        }
    }
}
