import Networks
import Structures

/// Where a rank's samples come from: the training step asks for a structure's encoded items by
/// its index and never learns how they were made or kept.
protocol SampleSource {
    func sample(_ index: Int) throws -> EncodedStructure
}

/// Every owned sample encoded once, up front, and held: the fastest source while the shard fits
/// in memory.
final class CachedShard: SampleSource {
    private var samples: [Int: EncodedStructure] = [:]

    /// Encodes `structures[i]` for every i in `indices`; an encoding error names the structure.
    init(structures: [Structure], indices: [Int], encoder: SampleEncoder) throws {
        for index in indices {
            do { samples[index] = try encoder.encode(structures[index]) }
            catch { throw TrainingError("structure \(index + 1)\(sourceNote(structures[index])): \(error)") }
        }
    }

    func sample(_ index: Int) throws -> EncodedStructure {
        guard let sample = samples[index] else { throw TrainingError("structure \(index + 1) is not in this rank's shard") }
        return sample
    }
}

/// " (line N)" when the structure knows the line it was read from.
func sourceNote(_ structure: Structure) -> String {
    structure.info["line"].map { " (line \($0))" } ?? ""
}
