import Dispatch
import Foundation
import Networks
import Structures

/// Samples encoded (rasterised) when a step asks for them and dropped after: memory set by the
/// batch, not the shard. While a step trains, the next step's samples are encoded on a second
/// thread (`prefetch`), so the encoding cost hides behind the step. Encoding is deterministic,
/// so training gives the same parameters as with `CachedShard`, bit for bit.
///
/// Each sample asked for is encoded once: taken from the prefetched ones when ready, waited for
/// when its prefetch is under way, encoded here only when nobody prefetched it. Prefetched
/// samples are kept until the prefetch after next (a step asks for the samples prefetched
/// during the step before it), then dropped, so at most about three steps' samples are held.
/// `@unchecked Sendable`: every stored dictionary and set is guarded by `condition`.
final class StreamingShard: SampleSource, @unchecked Sendable {
    private let structures: StructureStore
    private let encoder: SampleEncoder
    private let condition = NSCondition()
    private var ready: [Int: Result<EncodedStructure, Error>] = [:]
    /// Indices queued or being encoded on the prefetch thread.
    private var underWay: Set<Int> = []
    /// The indices of the latest prefetch (the ones the next step will ask for).
    private var latest: Set<Int> = []
    private let queue = DispatchQueue(label: "sitelens.prefetch")

    init(structures: StructureStore, encoder: SampleEncoder) {
        self.structures = structures
        self.encoder = encoder
    }

    func sample(_ index: Int) throws -> EncodedStructure {
        condition.lock()
        while ready[index] == nil && underWay.contains(index) { condition.wait() }
        let prepared = ready.removeValue(forKey: index)
        condition.unlock()
        if let prepared { return try prepared.get() }
        return try encodeSample(index, of: structures, with: encoder)
    }

    /// Starts encoding `indices` in the background (after any prefetch still under way); what
    /// was prepared before the previous prefetch and not asked for is dropped.
    func prefetch(_ indices: [Int]) {
        condition.lock()
        ready = ready.filter { latest.contains($0.key) }
        latest = Set(indices)
        underWay.formUnion(indices)
        condition.unlock()
        queue.async { [self] in
            for index in indices {
                let result = Result { try encodeSample(index, of: structures, with: encoder) }
                condition.lock()
                ready[index] = result
                underWay.remove(index)
                condition.broadcast()
                condition.unlock()
            }
        }
    }
}
