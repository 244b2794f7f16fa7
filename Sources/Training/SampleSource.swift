import Networks
import Structures

/// Where a rank's samples come from: the training step asks for a structure's encoded items by
/// its index and never learns how they were made or kept.
protocol SampleSource {
    func sample(_ index: Int) throws -> EncodedStructure
    /// A hint: these samples are asked for next (a source may start preparing them).
    func prefetch(_ indices: [Int])
}

extension SampleSource {
    func prefetch(_ indices: [Int]) {}
}

/// Whether a rank keeps its encoded shard in memory.
public enum ImageCache: String, Sendable, CaseIterable, Codable {
    /// Cache when the shard fits the memory budget, else stream.
    case auto
    case always
    case never
}

/// This rank's sample source for `indices`, cached or streaming as `choice` and the per-rank
/// memory budget (bytes) say; `describe` receives the decision in words.
func makeSampleSource(structures: StructureStore, indices: [Int], encoder: SampleEncoder, choice: ImageCache,
                      budget: Int, describe: (String) -> Void) throws -> SampleSource {
    var cache = choice == .always
    if choice == .auto {
        let needed = try estimatedBytes(structures: structures, indices: indices, encoder: encoder)
        cache = needed <= budget
        describe("image cache: \(cache ? "cached" : "streaming") (this rank's \(indices.count) samples need ~\(megabytes(needed)) MB; "
                 + "budget \(megabytes(budget)) MB per rank)")
    } else {
        describe("image cache: \(cache ? "cached" : "streaming") (--image-cache \(choice.rawValue))")
    }
    return cache ? try CachedShard(structures: structures, indices: indices, encoder: encoder)
                 : StreamingShard(structures: structures, encoder: encoder)
}

/// Bytes the encoded samples would take, from the first few samples' sizes.
private func estimatedBytes(structures: StructureStore, indices: [Int], encoder: SampleEncoder) throws -> Int {
    let probe = indices.prefix(16)
    guard !probe.isEmpty else { return 0 }
    let probed = try probe.reduce(0) { $0 + 4 * (try encodeSample($1, of: structures, with: encoder).values.count) }
    let (total, overflow) = (probed / probe.count).multipliedReportingOverflow(by: indices.count)
    return overflow ? Int.max : total
}

private func megabytes(_ bytes: Int) -> Int { bytes / (1 << 20) }

/// Every owned sample encoded once, up front, and held: the fastest source while the shard fits
/// in memory.
final class CachedShard: SampleSource {
    private var samples: [Int: EncodedStructure] = [:]

    /// Encodes `structures[i]` for every i in `indices`; an encoding error names the structure.
    init(structures: StructureStore, indices: [Int], encoder: SampleEncoder) throws {
        for index in indices { samples[index] = try encodeSample(index, of: structures, with: encoder) }
    }

    func sample(_ index: Int) throws -> EncodedStructure {
        guard let sample = samples[index] else { throw TrainingError("structure \(index + 1) is not in this rank's shard") }
        return sample
    }
}

/// Structure `index` encoded; an encoding error names the structure (and its line).
func encodeSample(_ index: Int, of structures: StructureStore, with encoder: SampleEncoder) throws -> EncodedStructure {
    let structure = try structures.structure(index)
    do { return try encoder.encode(structure) }
    catch { throw TrainingError("structure \(index + 1)\(sourceNote(structure)): \(error)") }
}

/// " (line N)" when the structure knows the line it was read from.
func sourceNote(_ structure: Structure) -> String {
    structure.info["line"].map { " (line \($0))" } ?? ""
}
