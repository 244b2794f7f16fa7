/// Owned Float storage that starts a chosen number of bytes into a memory page, for the
/// network's activations and gradients. oneDNN's kernels stream two of these at once (a layer's
/// input and output, or its input and output gradient); when both start at the same offset
/// within their pages, as every large malloc does, the CPU serves them worse (4K aliasing of
/// loads against stores, or the same cache sets: what was measured is that the offsets decide):
/// bf16 backward-weights reading two such buffers in place ran markedly slower (Benchmarks.md).
struct StaggeredBuffer {
    static let pageBytes = 4096
    private var allocation: UnsafeMutableRawPointer?
    /// The values, zeroed when allocated.
    private(set) var floats = UnsafeMutableBufferPointer<Float>(start: nil, count: 0)

    /// No storage.
    init() {}

    /// `count` zeros starting `pageOffset` bytes (a multiple of 64, below a page) into a page.
    init(count: Int, pageOffset: Int) {
        precondition(count >= 0 && pageOffset >= 0 && pageOffset < Self.pageBytes && pageOffset % 64 == 0)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: pageOffset + count * MemoryLayout<Float>.stride, alignment: Self.pageBytes)
        allocation = raw
        floats = UnsafeMutableBufferPointer(start: (raw + pageOffset).bindMemory(to: Float.self, capacity: count), count: count)
        floats.initialize(repeating: 0)
    }

    var count: Int { floats.count }
    var baseAddress: UnsafeMutablePointer<Float>? { floats.baseAddress }

    func deallocate() { allocation?.deallocate() }
}
