import Dispatch
import Foundation
import Networks
import Structures

/// Samples encoded (rasterised) when a step asks for them and dropped after: memory set by the
/// batch, not the shard. While a step trains, the next step's samples are encoded on a second
/// thread (`prefetch`), so the encoding cost hides behind the step. Encoding is deterministic,
/// so training gives the same parameters as with `CachedShard`, bit for bit.
/// `@unchecked Sendable`: `ready` is guarded by `lock`; `pending` is touched only by the
/// trainer's thread.
final class StreamingShard: SampleSource, @unchecked Sendable {
    private let structures: StructureStore
    private let encoder: SampleEncoder
    private let lock = NSLock()
    private var ready: [Int: Result<EncodedStructure, Error>] = [:]
    private var pending = DispatchGroup()
    private let queue = DispatchQueue(label: "sitelens.prefetch")

    init(structures: StructureStore, encoder: SampleEncoder) {
        self.structures = structures
        self.encoder = encoder
    }

    func sample(_ index: Int) throws -> EncodedStructure {
        pending.wait()
        lock.lock()
        let prepared = ready.removeValue(forKey: index)
        lock.unlock()
        if let prepared { return try prepared.get() }
        return try encodeSample(index, of: structures, with: encoder)
    }

    /// Starts encoding `indices` in the background; what was prepared and not used is dropped.
    func prefetch(_ indices: [Int]) {
        pending.wait()
        lock.lock()
        ready.removeAll()
        lock.unlock()
        let group = DispatchGroup()
        pending = group
        queue.async(group: group) { [self] in
            for index in indices {
                let result = Result { try encodeSample(index, of: structures, with: encoder) }
                lock.lock()
                ready[index] = result
                lock.unlock()
            }
        }
    }
}
