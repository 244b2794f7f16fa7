import CMPI

/// Memory that a non-blocking MPI call may read and write after the call has returned:
/// allocated once, never moved, zero-initialised, freed only when the last reference (the
/// owner's or a pending `Request`'s) goes away. A Swift array cannot be used for this: its
/// storage may move or be freed once the closure that lent its pointer returns.
public final class StableBuffer<Element: MPIElement & BitwiseCopyable>: @unchecked Sendable {
    /// The memory itself; valid for the buffer's whole life.
    public let storage: UnsafeMutableBufferPointer<Element>

    public init(count: Int, repeating value: Element) {
        storage = UnsafeMutableBufferPointer.allocate(capacity: max(count, 0))
        storage.initialize(repeating: value)
    }

    deinit { storage.deallocate() }

    public var count: Int { storage.count }

    public subscript(index: Int) -> Element {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    /// Elements `range` of the memory (no copy).
    public func slice(_ range: Range<Int>) -> UnsafeMutableBufferPointer<Element> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range \(range) outside a buffer of \(count)")
        return UnsafeMutableBufferPointer(rebasing: storage[range])
    }
}

/// A started non-blocking operation. It keeps the memory it works on alive until it is
/// complete, and must be completed (`wait`, or `test` returning true) or, on an error path,
/// `abandon`ed: dropping one that is still pending is a programming error and stops the
/// process at once with a message, since MPI could go on writing into memory about to be reused.
public final class Request: @unchecked Sendable {
    private var handle: MPI_Request?
    /// What the operation reads and writes; released once the operation is complete.
    private var memory: AnyObject?
    /// The MPI call that started the operation, for messages.
    public let call: String
    public private(set) var isComplete = false

    init(handle: MPI_Request?, keeping memory: AnyObject?, call: String) {
        (self.handle, self.memory, self.call) = (handle, memory, call)
    }

    deinit {
        if !isComplete {
            // fatalError (not precondition): the message is printed in release builds too.
            fatalError("sitelens: a pending \(call) request was dropped without wait(); its memory could be reused while MPI still writes into it")
        }
    }

    /// MPI_Wait: blocks until the operation is done. A failure abandons the request and throws.
    public func wait() throws {
        guard !isComplete else { return }
        do {
            try check(MPI_Wait(&handle, cmpi_status_ignore()), "MPI_Wait (\(call))")
        } catch {
            abandon()
            throw error
        }
        finish()
    }

    /// MPI_Test: true once the operation is done. Each call also lets MPI move pending
    /// operations on (Open MPI has no progress thread by default: a started collective advances
    /// only inside MPI calls). A failure abandons the request and throws.
    @discardableResult
    public func test() throws -> Bool {
        guard !isComplete else { return true }
        var done: Int32 = 0
        do {
            try check(MPI_Test(&handle, &done, cmpi_status_ignore()), "MPI_Test (\(call))")
        } catch {
            abandon()
            throw error
        }
        if done != 0 { finish() }
        return isComplete
    }

    /// For error paths only, when the job is about to end: gives up on the request without
    /// waiting. Its memory is deliberately leaked so that MPI can never write into freed memory.
    public func abandon() {
        guard !isComplete else { return }
        if let memory { _ = Unmanaged.passRetained(memory) }
        memory = nil
        isComplete = true
    }

    private func finish() {
        memory = nil
        isComplete = true
    }
}

extension Communicator {
    /// MPI_Iallreduce with MPI_IN_PLACE over elements `range` of `buffer`: starts the reduction
    /// and returns at once. The request keeps `buffer` alive until it completes; the caller must
    /// not touch `range` until then, and must start the same reductions in the same order on
    /// every rank (MPI's rule for collectives).
    public func startAllReduce<T: MPIReducible & BitwiseCopyable>(inPlace buffer: StableBuffer<T>, range: Range<Int>,
                                                                 op: ReductionOp) throws -> Request {
        try startInPlace(buffer, range: range, datatype: T.mpiDatatype, op: op.handle)
    }

    /// MPI_Iallreduce with MPI_IN_PLACE and the type's own sum (`MPISummable.mpiSum`) over
    /// elements `range` of `buffer`; otherwise as `startAllReduce`.
    public func startSum<T: MPISummable>(inPlace buffer: StableBuffer<T>, range: Range<Int>) throws -> Request {
        try startInPlace(buffer, range: range, datatype: T.mpiDatatype, op: T.mpiSum)
    }

    /// The MPI_Iallreduce both starts make, given the element type's datatype and the op.
    private func startInPlace<T>(_ buffer: StableBuffer<T>, range: Range<Int>, datatype: MPI_Datatype, op: MPI_Op) throws -> Request {
        let count = try mpiCount(range.count, "MPI_Iallreduce")
        let memory = buffer.slice(range)
        var request: MPI_Request? = cmpi_request_null()
        try check(MPI_Iallreduce(cmpi_in_place(), memory.baseAddress, count, datatype, op, handle, &request), "MPI_Iallreduce")
        return Request(handle: request, keeping: buffer, call: "MPI_Iallreduce")
    }

    /// MPI_Allreduce with MPI_IN_PLACE and the type's own sum (`MPISummable.mpiSum`).
    public func sum<T: MPISummable>(inPlace buffer: UnsafeMutableBufferPointer<T>) throws {
        let count = try mpiCount(buffer.count, "MPI_Allreduce")
        guard count > 0 else { return }
        try check(MPI_Allreduce(cmpi_in_place(), buffer.baseAddress, count, T.mpiDatatype, T.mpiSum, handle), "MPI_Allreduce")
    }
}
