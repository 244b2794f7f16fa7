import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// A group of processes that talk through MPI collectives.
///
/// Method names say which MPI call runs. Every call is checked and a failure throws `MPIError`
/// with MPI's own text. A communicator made by `split` is freed when the value goes away; the
/// world never is.
public final class Communicator: @unchecked Sendable {
    let handle: MPI_Comm
    private let owned: Bool
    /// This process's rank in the communicator and the number of processes in it.
    public private(set) var rank: Int = 0
    public private(set) var size: Int = 1

    init(predefined handle: MPI_Comm) {
        self.handle = handle
        self.owned = false
    }

    private init(owning handle: MPI_Comm) throws {
        self.handle = handle
        self.owned = true
        try check(MPI_Comm_set_errhandler(handle, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        try loadRankAndSize()
    }

    func loadRankAndSize() throws {
        var r: Int32 = 0, s: Int32 = 0
        try check(MPI_Comm_rank(handle, &r), "MPI_Comm_rank")
        try check(MPI_Comm_size(handle, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    deinit {
        if owned && !MPIEnvironment.isFinalized {
            var h: MPI_Comm? = handle
            MPI_Comm_free(&h)
        }
    }

    /// True on rank 0.
    public var isRoot: Bool { rank == 0 }

    private func checkRoot(_ root: Int, _ call: String) throws {
        guard root >= 0 && root < size else {
            throw MPIUsageError(call: call, reason: "root \(root) is not a rank of this \(size)-process communicator")
        }
    }

    // MARK: Synchronisation and splitting

    /// MPI_Barrier: returns once every rank has called it.
    public func barrier() throws {
        try check(MPI_Barrier(handle), "MPI_Barrier")
    }

    /// MPI_Comm_split: ranks with the same colour form a new communicator, ordered by `key`
    /// (then by old rank). A nil colour (MPI_UNDEFINED) joins no group and returns nil.
    public func split(color: Int?, key: Int) throws -> Communicator? {
        if let color, color < 0 {
            throw MPIUsageError(call: "MPI_Comm_split", reason: "colour \(color) is negative; use nil to join no group")
        }
        let c = try color.map { try mpiCount($0, "MPI_Comm_split") } ?? cmpi_undefined()
        var newHandle: MPI_Comm? = nil
        try check(MPI_Comm_split(handle, c, Int32(truncatingIfNeeded: key), &newHandle), "MPI_Comm_split")
        guard let newHandle, newHandle != cmpi_comm_null() else { return nil }
        return try Communicator(owning: newHandle)
    }

    /// MPI_Comm_split_type(MPI_COMM_TYPE_SHARED): the ranks that share this rank's node (its
    /// memory), ordered by their rank here.
    public func splitByNode() throws -> Communicator {
        var newHandle: MPI_Comm? = nil
        try check(MPI_Comm_split_type(handle, cmpi_comm_type_shared(), Int32(truncatingIfNeeded: rank), cmpi_info_null(), &newHandle),
                  "MPI_Comm_split_type")
        guard let newHandle, newHandle != cmpi_comm_null() else {
            throw MPIUsageError(call: "MPI_Comm_split_type", reason: "returned no communicator")
        }
        return try Communicator(owning: newHandle)
    }

    // MARK: Broadcast

    /// MPI_Bcast: every rank's `buffer` ends with root's contents. Sizes must already agree.
    public func broadcast<T: MPIElement>(_ buffer: inout [T], root: Int) throws {
        try checkRoot(root, "MPI_Bcast")
        try _uncheckedBroadcast(&buffer, root: root)
    }

    /// MPI_Bcast without SiteLens's own root check, so tests can see MPI's error come back. Not for use.
    public func _uncheckedBroadcast<T: MPIElement>(_ buffer: inout [T], root: Int) throws {
        let count = try mpiCount(buffer.count, "MPI_Bcast")
        try buffer.withUnsafeMutableBytes { raw in
            try check(MPI_Bcast(raw.baseAddress, count, T.mpiDatatype, Int32(root), handle), "MPI_Bcast")
        }
    }

    /// MPI_Bcast of root's array, whatever its length; other ranks' `values` are ignored.
    public func broadcastArray<T: MPIElement>(_ values: [T], root: Int) throws -> [T] {
        try checkRoot(root, "MPI_Bcast")
        var length = [Int64(rank == root ? values.count : 0)]
        try broadcast(&length, root: root)
        var result = rank == root ? values : [T](unsafeUninitializedCapacity: Int(length[0])) { buf, n in
            UnsafeMutableRawBufferPointer(buf).initializeMemory(as: UInt8.self, repeating: 0)
            n = Int(length[0])
        }
        try broadcast(&result, root: root)
        return result
    }

    // MARK: All-reduce

    /// MPI_Allreduce with MPI_IN_PLACE: each element becomes the reduction over all ranks.
    public func allReduce<T: MPIReducible>(inPlace buffer: inout [T], op: ReductionOp) throws {
        try buffer.withUnsafeMutableBufferPointer { try allReduce(inPlace: $0, op: op) }
    }

    /// MPI_Allreduce with MPI_IN_PLACE over memory the caller owns (a flat gradient buffer).
    public func allReduce<T: MPIReducible>(inPlace buffer: UnsafeMutableBufferPointer<T>, op: ReductionOp) throws {
        let count = try mpiCount(buffer.count, "MPI_Allreduce")
        guard count > 0 else { return }
        try check(MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, count, T.mpiDatatype, op.handle, handle),
                  "MPI_Allreduce")
    }

    /// MPI_Allreduce into a new array; `values` is left as it was.
    public func allReduce<T: MPIReducible>(_ values: [T], op: ReductionOp) throws -> [T] {
        var result = values
        try allReduce(inPlace: &result, op: op)
        return result
    }

    /// MPI_Allreduce of one value.
    public func allReduce<T: MPIReducible>(_ value: T, op: ReductionOp) throws -> T {
        try allReduce([value], op: op)[0]
    }

    // MARK: Gather

    /// MPI_Allgather of one value per rank: every rank gets all values, in rank order.
    public func allGather<T: MPIElement>(_ value: T) throws -> [T] {
        var mine = value
        var all = [T](repeating: value, count: size)
        try all.withUnsafeMutableBytes { out in
            try withUnsafeMutableBytes(of: &mine) { inp in
                try check(MPI_Allgather(inp.baseAddress, 1, T.mpiDatatype, out.baseAddress, 1, T.mpiDatatype, handle),
                          "MPI_Allgather")
            }
        }
        return all
    }

    /// MPI_Allgatherv when every rank knows how many values each rank sends (`counts`, in rank
    /// order): every rank gets all values concatenated in rank order, received in place.
    public func allGatherv<T: MPIElement>(_ values: [T], counts: [Int]) throws -> [T] {
        guard counts.count == size, counts[rank] == values.count else {
            throw MPIUsageError(call: "MPI_Allgatherv", reason: "counts \(counts) do not match \(size) ranks sending \(values.count) here")
        }
        let counts32 = try counts.map { try mpiCount($0, "MPI_Allgatherv") }
        var displacements = [Int32](repeating: 0, count: size)
        var total = 0
        for r in 0..<size {
            displacements[r] = try mpiCount(total, "MPI_Allgatherv")
            total += counts[r]
        }
        guard total > 0 else { return [] }
        return try [T](unsafeUninitializedCapacity: total) { buffer, initialised in
            UnsafeMutableRawBufferPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0)
            try values.withUnsafeBytes { send in
                try check(MPI_Allgatherv(send.baseAddress, counts32[rank], T.mpiDatatype,
                                         buffer.baseAddress, counts32, displacements, T.mpiDatatype, handle), "MPI_Allgatherv")
            }
            initialised = total
        }
    }

    /// MPI_Gatherv: each rank sends any number of values (zero included); root gets one array per
    /// rank, other ranks get nil. Counts are exchanged first, so nobody needs to know them.
    public func gatherv<T: MPIElement>(_ values: [T], root: Int) throws -> [[T]]? {
        try checkRoot(root, "MPI_Gatherv")
        let sendCount = try mpiCount(values.count, "MPI_Gatherv")
        var counts = [Int32](repeating: 0, count: size)
        var mine = sendCount
        try counts.withUnsafeMutableBytes { out in
            try check(MPI_Gather(&mine, 1, Int32.mpiDatatype, out.baseAddress, 1, Int32.mpiDatatype, Int32(root), handle),
                      "MPI_Gather")
        }
        var displacements = [Int32](repeating: 0, count: size)
        var total = 0
        if rank == root {
            for r in 0..<size {
                displacements[r] = try mpiCount(total, "MPI_Gatherv")
                total += Int(counts[r])
            }
            _ = try mpiCount(total, "MPI_Gatherv")
        }
        let stride = MemoryLayout<T>.stride
        var received = [UInt8](repeating: 0, count: max(total * stride, 1))
        try values.withUnsafeBytes { send in
            try received.withUnsafeMutableBytes { recv in
                try check(MPI_Gatherv(send.baseAddress, sendCount, T.mpiDatatype,
                                      recv.baseAddress, counts, displacements, T.mpiDatatype,
                                      Int32(root), handle), "MPI_Gatherv")
            }
        }
        guard rank == root else { return nil }
        return received.withUnsafeBytes { raw in
            (0..<size).map { r in
                let start = Int(displacements[r]) * stride
                let bytes = UnsafeRawBufferPointer(rebasing: raw[start..<(start + Int(counts[r]) * stride)])
                return Array(bytes.bindMemory(to: T.self))
            }
        }
    }

    // MARK: Ending the job

    /// Prints `message` on this rank's stderr and ends every process of the job (MPI_Abort).
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        let line = "sitelens: rank \(rank) of \(size): \(message)\n"
        fflush(nil)  // what this rank printed so far comes out before the job ends
        line.withCString { _ = write(2, $0, strlen($0)) }
        MPI_Abort(handle, code == 0 ? 1 : code)
        exit(code == 0 ? 1 : code)
    }
}
