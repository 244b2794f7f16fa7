// Started by MPITests under real `mpirun`: runs each collective on known per-rank values and
// prints one line per check and rank, `rank=R check=NAME ok=0|1 value=V`, for the test to read.
import MPI
#if canImport(Glibc)
import Glibc
#endif

struct HelperFailure: Error, CustomStringConvertible { let description: String }

func report(_ world: Communicator, _ name: String, ok: Bool, _ value: String) {
    print("rank=\(world.rank) check=\(name) ok=\(ok ? 1 : 0) value=\(value)")
}

/// Per-rank input of the sum checks: exact in Float, so sums compare exactly.
func sumInput(rank: Int, index: Int) -> Double { Double(rank + 1) * Double(index % 7 + 1) }

func checkSums<T: MPIReducible & BinaryFloatingPoint>(_ type: T.Type, _ label: String, _ world: Communicator) throws {
    let p = world.size
    for n in [1, 1000, 1_000_000] {
        var buffer = (0..<n).map { T(sumInput(rank: world.rank, index: $0)) }
        try world.allReduce(inPlace: &buffer, op: .sum)
        let rankSum = Double(p * (p + 1) / 2)
        let wrong = (0..<n).filter { Double(buffer[$0]) != rankSum * Double($0 % 7 + 1) }.count
        report(world, "sum-\(label)-\(n)", ok: wrong == 0, "\(Double(buffer[n - 1]))")

        let values = (0..<n).map { T(Double(world.rank * 1000 + $0 % 5)) }
        let maxima = try world.allReduce(values, op: .max)
        let minima = try world.allReduce(values, op: .min)
        let wrongMax = (0..<n).filter { Double(maxima[$0]) != Double((p - 1) * 1000 + $0 % 5) }.count
        let wrongMin = (0..<n).filter { Double(minima[$0]) != Double($0 % 5) }.count
        let untouched = values[n - 1] == T(Double(world.rank * 1000 + (n - 1) % 5))
        report(world, "max-\(label)-\(n)", ok: wrongMax == 0 && untouched, "\(Double(maxima[n - 1]))")
        report(world, "min-\(label)-\(n)", ok: wrongMin == 0, "\(Double(minima[n - 1]))")
    }
}

func runCollectives(_ world: Communicator) throws {
    let p = world.size
    try checkSums(Float.self, "float", world)
    try checkSums(Double.self, "double", world)

    // Integer all-reduce of one value.
    let count = try world.allReduce(Int64(world.rank + 1), op: .sum)
    report(world, "sum-int64", ok: count == Int64(p * (p + 1) / 2), "\(count)")

    // Uneven split: world rank 0 alone, the rest together, ordered in reverse by key.
    let color = world.rank == 0 ? 0 : 1
    guard let group = try world.split(color: color, key: -world.rank) else {
        throw HelperFailure(description: "split returned no communicator for a defined colour")
    }
    let groupSum = try group.allReduce(Int32(world.rank), op: .sum)
    let expectedSize = color == 0 ? 1 : p - 1
    let expectedRank = color == 0 ? 0 : (p - 1) - world.rank
    let expectedSum = color == 0 ? 0 : (1..<p).reduce(0, +)
    report(world, "split", ok: group.size == expectedSize && group.rank == expectedRank && Int(groupSum) == expectedSum,
           "\(group.size):\(group.rank):\(groupSum)")

    // A rank with an undefined colour joins no group.
    let lastOut = try world.split(color: world.rank == p - 1 ? nil : 7, key: world.rank)
    report(world, "split-undefined", ok: (lastOut == nil) == (world.rank == p - 1), lastOut.map { "\($0.size)" } ?? "none")

    // gatherv of 0, 1 and 5000 bytes on different ranks, to rank 0 and to the last rank.
    let sizes = [0, 1, 5000]
    func bytes(of rank: Int) -> [UInt8] { (0..<sizes[rank % 3]).map { UInt8((rank * 31 + $0) % 251) } }
    for root in Set([0, p - 1]).sorted() {
        let gathered = try world.gatherv(bytes(of: world.rank), root: root)
        if world.rank == root {
            let ok = gathered?.count == p && (0..<p).allSatisfy { gathered![$0] == bytes(of: $0) }
            report(world, "gatherv-root\(root)", ok: ok, gathered!.map { "\($0.count)" }.joined(separator: ","))
        } else {
            report(world, "gatherv-root\(root)", ok: gathered == nil, "none")
        }
    }

    // Broadcast from the last rank (non-zero whenever p > 1).
    let root = p - 1
    var message = (0..<100).map { world.rank == root ? Double($0) * 0.5 + Double(root) : -1 }
    try world.broadcast(&message, root: root)
    let expected = (0..<100).map { Double($0) * 0.5 + Double(root) }
    report(world, "broadcast", ok: message == expected, "\(message.reduce(0, +))")

    // Allgather of one value per rank.
    let all = try world.allGather(Int32(world.rank * 10))
    report(world, "allgather", ok: all == (0..<p).map { Int32($0 * 10) }, all.map(String.init).joined(separator: ","))

    // Allgatherv of 0, 1 and 5000 values on different ranks, counts known to all; and
    // Codable values gathered to the last rank and broadcast from it.
    let counts = (0..<p).map { sizes[$0 % 3] }
    let mine = (0..<counts[world.rank]).map { Double(world.rank) * 1e4 + Double($0) }
    let everyone = try world.allGatherv(mine, counts: counts)
    let expectedAll = (0..<p).flatMap { r in (0..<counts[r]).map { Double(r) * 1e4 + Double($0) } }
    report(world, "allgatherv", ok: everyone == expectedAll, "\(everyone.count)")
    let labels = try world.gather(["rank": world.rank], root: p - 1)
    let shared = try world.broadcast(labels.map { $0.map { $0["rank"] ?? -1 } }, root: p - 1)
    report(world, "codable", ok: shared == Array(0..<p), shared.map(String.init).joined(separator: ","))

    // Non-blocking all-reduce of part of a stable buffer, waited on later; the rest untouched.
    let pending = StableBuffer<Float>(count: 4096, repeating: Float(world.rank + 1))
    let request = try world.startAllReduce(inPlace: pending, range: 1..<4096, op: .sum)
    try request.wait()
    let reduced = pending.storage.dropFirst().allSatisfy { $0 == Float(p * (p + 1) / 2) }
    report(world, "iallreduce", ok: reduced && pending[0] == Float(world.rank + 1) && request.isComplete, "\(pending[1])")

    try checkBucketedSum(world)
}

/// A bucketed all-reduce, its buckets started as a backward pass would finish them (from the
/// end of the buffer) and polled in between, gives what one whole all-reduce gives.
func checkBucketedSum(_ world: Communicator) throws {
    let n = 300_001
    // Halves and small integers: exact in Double, so every order of addition gives the same sum.
    let mine = (0..<n).map { Double((world.rank + 1) * ($0 % 1009)) + 0.5 * Double($0 % 3) }
    let whole = try world.allReduce(mine, op: .sum)
    let buffer = StableBuffer<Double>(count: n, repeating: 0)
    for i in 0..<n { buffer[i] = mine[i] }
    // Irregular "layer" starts, as a network's parameter ranges are.
    let layerStarts = Array(stride(from: 0, to: n, by: 7919)) + [5, 123_457, 299_999]
    let reduction = BucketedAllReduce(buffer: buffer, boundaries: layerStarts, bucketBytes: 256 << 10, over: world)
    for start in layerStarts.sorted(by: >) {
        try reduction.startBuckets(from: start)
        try reduction.progress()
    }
    try reduction.finish()
    let tiled = reduction.buckets.reversed().map(\.lowerBound) == [0] + reduction.buckets.reversed().dropLast().map(\.upperBound)
        && reduction.buckets.first?.upperBound == n && reduction.buckets.last?.lowerBound == 0
    let p = Double(world.size)
    let expected = (0..<n).map { p * (p + 1) / 2 * Double($0 % 1009) + p * 0.5 * Double($0 % 3) }
    let equal = (0..<n).allSatisfy { buffer[$0] == whole[$0] && whole[$0] == expected[$0] }
    report(world, "bucketed", ok: equal && tiled && reduction.buckets.count > 4 && reduction.startedCount == reduction.buckets.count,
           "\(buffer[n - 1])")
    // The next round starts from the top again.
    reduction.reset()
    for i in 0..<n { buffer[i] = 1 }
    try reduction.finish()
    report(world, "bucketed-again", ok: (0..<n).allSatisfy { buffer[$0] == p }, "\(buffer[0])")
}

/// A request keeps the memory it reduces alive until it completes, `test` completes it, an
/// abandoned request may be dropped.
func checkRequestRules(_ world: Communicator) throws {
    var buffer: StableBuffer<Double>? = StableBuffer(count: 1000, repeating: 2)
    weak let watched = buffer
    let request = try world.startAllReduce(inPlace: buffer!, range: 0..<1000, op: .sum)
    buffer = nil
    let aliveWhilePending = watched != nil
    var polls = 0
    while try !request.test() {
        polls += 1
        guard polls < 100_000_000 else { throw HelperFailure(description: "MPI_Test never completed") }
    }
    report(world, "request-keeps-memory", ok: aliveWhilePending && watched == nil && request.isComplete, "\(aliveWhilePending)")
    let abandoned = try world.startAllReduce(inPlace: StableBuffer<Float>(count: 8, repeating: 1), range: 0..<8, op: .sum)
    abandoned.abandon()
    report(world, "request-abandoned", ok: abandoned.isComplete, "ok")
}

/// Drops a pending request: must stop the process with a message before the next line.
func dropPendingRequest(_ world: Communicator) throws {
    let buffer = StableBuffer<Double>(count: 16, repeating: 1)
    _ = try world.startAllReduce(inPlace: buffer, range: 0..<16, op: .sum)
    report(world, "survived-drop", ok: false, "the dropped request did not stop the process")
}

/// Started without mpirun: a 1-rank singleton whose collectives are identities, and whose bad
/// calls come back as thrown errors carrying MPI's own text.
func runSingleton(_ mpi: MPIEnvironment) throws {
    let world = mpi.world
    report(world, "size", ok: world.size == 1 && world.rank == 0, "\(world.size)")
    report(world, "init-twice", ok: try MPIEnvironment.initialize() === mpi, "\(mpi.grantedThreadLevel)")
    report(world, "sum", ok: try world.allReduce([1.5, -2, 3] as [Double], op: .sum) == [1.5, -2, 3], "ok")
    report(world, "gatherv", ok: try world.gatherv([UInt8](), root: 0)! == [[]] && world.gatherv([Int32(7), 8], root: 0)! == [[7, 8]], "ok")
    report(world, "broadcast-array", ok: try world.broadcastArray([Float(1), 2, 3], root: 0) == [1, 2, 3], "ok")
    report(world, "split", ok: try world.split(color: 3, key: 0)?.size == 1 && world.split(color: nil, key: 0) == nil, "ok")
    let types = [try datatypeNameAndSize(Float.mpiDatatype), try datatypeNameAndSize(Double.mpiDatatype),
                 try datatypeNameAndSize(Int32.mpiDatatype), try datatypeNameAndSize(Int64.mpiDatatype),
                 try datatypeNameAndSize(UInt64.mpiDatatype), try datatypeNameAndSize(UInt8.mpiDatatype)]
    report(world, "datatypes", ok: true, types.map { "\($0.name):\($0.size)" }.joined(separator: ","))
    try checkRequestRules(world)
    var buffer: [Double] = [1, 2]
    do {
        try world.broadcast(&buffer, root: 3)
        report(world, "root-refused", ok: false, "no-error")
    } catch let error as MPIUsageError {
        report(world, "root-refused", ok: error.call == "MPI_Bcast", "usage")
    }
    do {
        try world._uncheckedBroadcast(&buffer, root: 5)
        report(world, "mpi-error", ok: false, "no-error")
    } catch let error as MPIError {
        // MPI's own text for MPI_ERR_ROOT, with the call's name.
        report(world, "mpi-error", ok: error.call == "MPI_Bcast", String(error.message.map { $0 == " " ? "_" : $0 }))
    }
}

/// One rank fails while the others wait in a collective that would never finish.
func runAbort(_ world: Communicator) throws {
    if world.rank == 1 % world.size {
        throw HelperFailure(description: "planted failure on rank \(world.rank)")
    }
    var never = [Double](repeating: 1, count: 8)
    try world.allReduce(inPlace: &never, op: .sum)
    try world.barrier()
}

let mode = CommandLine.arguments.dropFirst().first ?? "collectives"
let mpi = try MPIEnvironment.initialize(requesting: .funneled)
do {
    switch mode {
    case "collectives": try runCollectives(mpi.world)
    case "abort": try runAbort(mpi.world)
    case "singleton": try runSingleton(mpi)
    case "drop-request": try dropPendingRequest(mpi.world)
    default: throw HelperFailure(description: "unknown mode \(mode)")
    }
} catch {
    mpi.world.abort("\(error)")
}
fflush(nil)
mpi.finalize()
