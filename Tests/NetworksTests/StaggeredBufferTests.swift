import Testing
@testable import Networks

struct StaggeredBufferTests {
    /// Each buffer starts where it was asked to within its page, zeroed.
    @Test func buffersStartAtTheirOffsetWithinAPage() {
        for offset in [0, 256, 512, 3584] {
            let buffer = StaggeredBuffer(count: 5000, pageOffset: offset)
            defer { buffer.deallocate() }
            let address = Int(bitPattern: buffer.baseAddress)
            #expect(address % StaggeredBuffer.pageBytes == offset && buffer.count == 5000 && buffer.floats.allSatisfy { $0 == 0 })
        }
    }
}
