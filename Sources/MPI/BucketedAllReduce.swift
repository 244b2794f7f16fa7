/// A sum all-reduce of one flat buffer in buckets, each started (MPI_Iallreduce) as soon as its
/// part of the buffer is final on this rank, so communication overlaps the work that fills the
/// rest (PyTorch DDP's and Horovod's overlap of the gradient all-reduce with backward).
///
/// The buffer is filled from its end towards its start (backward runs from the last layer to
/// the first), so buckets are cut from the end, at the `boundaries` the caller allows (where a
/// layer's parameters begin), each at least `bucketBytes` except the first of the buffer. Every
/// rank starts the same buckets in the same order, as MPI requires of collectives. Each
/// element's sum over ranks is the one a whole-buffer all-reduce would give up to the order of
/// additions across ranks (the same on the same rank count).
///
/// Throwing methods abandon every pending request before they throw (the job is then ending);
/// otherwise every started bucket must be waited for with `finish` before `reset`.
public final class BucketedAllReduce<T: MPISummable> {
    public let buffer: StableBuffer<T>
    /// The buckets in the order they start: from the end of the buffer towards its start.
    public let buckets: [Range<Int>]
    private let group: Communicator
    private var started = 0
    private var pending: [Request] = []

    public init(buffer: StableBuffer<T>, boundaries: [Int], bucketBytes: Int, over group: Communicator) {
        self.buffer = buffer
        self.group = group
        buckets = Self.cut(count: buffer.count, boundaries: boundaries, bytes: bucketBytes)
    }

    /// Buckets of `count` elements cut at some of `boundaries`, from the end: each holds at least
    /// `bytes` (one bucket in all if `bytes` ≤ 0) except the last cut, which takes what is left.
    /// Together they tile 0..<count.
    public static func cut(count: Int, boundaries: [Int], bytes: Int) -> [Range<Int>] {
        guard count > 0 else { return [] }
        var result: [Range<Int>] = []
        var upper = count
        if bytes > 0 {
            for boundary in Set(boundaries).filter({ $0 > 0 && $0 < count }).sorted(by: >)
            where boundary < upper && (upper - boundary) * MemoryLayout<T>.stride >= bytes {
                result.append(boundary..<upper)
                upper = boundary
            }
        }
        result.append(0..<upper)
        return result
    }

    /// Elements from `index` to the end of the buffer are final on this rank: starts every
    /// bucket not yet started that lies wholly there.
    public func startBuckets(from index: Int) throws {
        while started < buckets.count && buckets[started].lowerBound >= index {
            try startNext()
        }
    }

    /// MPI_Test on the started buckets not yet complete: lets MPI move them on (Open MPI
    /// advances a non-blocking collective only inside MPI calls unless it runs a progress thread).
    public func progress() throws {
        try abandoningOnError {
            for request in pending { try request.test() }
            pending.removeAll { $0.isComplete }
        }
    }

    /// Starts the buckets not yet started and waits for all: the whole buffer then holds the
    /// group's sum.
    public func finish() throws {
        while started < buckets.count { try startNext() }
        try abandoningOnError {
            for request in pending { try request.wait() }
            pending.removeAll()
        }
    }

    /// Ready for the next round (the buffer itself is the caller's to refill).
    public func reset() {
        precondition(pending.isEmpty, "reset with \(pending.count) bucket reductions still pending: finish() first")
        started = 0
    }

    /// Buckets started so far in this round.
    public var startedCount: Int { started }

    private func startNext() throws {
        let range = buckets[started]
        started += 1
        // One rank alone has nothing to add: its buffer already holds the sum.
        guard group.size > 1 else { return }
        try abandoningOnError {
            pending.append(try group.startSum(inPlace: buffer, range: range))
        }
    }

    private func abandoningOnError(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            for request in pending { request.abandon() }
            pending.removeAll()
            throw error
        }
    }
}
