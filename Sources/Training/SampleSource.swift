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
/// memory budget (bytes) say; `describe` receives the decision in words. The samples `auto`
/// encodes to estimate the size are handed to the cache, never encoded twice.
func makeSampleSource(structures: StructureStore, indices: [Int], encoder: SampleEncoder, choice: ImageCache,
                      budget: Int, describe: (String) -> Void) throws -> SampleSource {
    var cache = choice == .always
    var probed: [Int: EncodedStructure] = [:]
    if choice == .auto {
        for index in indices.prefix(16) { probed[index] = try encodeSample(index, of: structures, with: encoder) }
        let needed = estimatedBytes(probed: Array(probed.values), total: indices.count)
        cache = needed <= budget
        describe("image cache: \(cache ? "cached" : "streaming") (this rank's \(indices.count) samples need ~\(megabytes(needed)) MB; "
                 + "budget \(megabytes(budget)) MB per rank)")
    } else {
        describe("image cache: \(cache ? "cached" : "streaming") (--image-cache \(choice.rawValue))")
    }
    return cache ? try CachedShard(structures: structures, indices: indices, encoder: encoder, encoded: probed)
                 : StreamingShard(structures: structures, encoder: encoder)
}

/// Bytes `total` encoded samples would take, from the sizes of the `probed` few.
private func estimatedBytes(probed: [EncodedStructure], total: Int) -> Int {
    guard !probed.isEmpty else { return 0 }
    let bytes = probed.reduce(0) { $0 + 4 * $1.values.count }
    let (estimate, overflow) = (bytes / probed.count).multipliedReportingOverflow(by: total)
    return overflow ? Int.max : estimate
}

private func megabytes(_ bytes: Int) -> Int { bytes / (1 << 20) }

/// Every owned sample encoded once, up front, and held: the fastest source while the shard fits
/// in memory.
final class CachedShard: SampleSource {
    private var samples: [Int: EncodedStructure] = [:]

    /// Encodes `structures[i]` for every i in `indices` not already in `encoded`; an encoding
    /// error names the structure.
    init(structures: StructureStore, indices: [Int], encoder: SampleEncoder, encoded: [Int: EncodedStructure] = [:]) throws {
        samples = encoded
        for index in indices where samples[index] == nil { samples[index] = try encodeSample(index, of: structures, with: encoder) }
    }

    func sample(_ index: Int) throws -> EncodedStructure {
        guard let sample = samples[index] else { throw TrainingError("structure \(index + 1) is not in this rank's shard") }
        return sample
    }
}

/// Structure `index` encoded; an encoding error (an element the model never saw, say) names
/// the file, the structure and its line.
func encodeSample(_ index: Int, of structures: StructureStore, with encoder: SampleEncoder) throws -> EncodedStructure {
    let structure = try structures.structure(index)
    do { return try encoder.encode(structure) }
    catch { throw TrainingError((structures.file.map { "\($0): " } ?? "") + "structure \(index + 1)\(sourceNote(structure)): \(error)") }
}

/// " (line N)" when the structure knows the line it was read from.
func sourceNote(_ structure: Structure) -> String {
    structure.info["line"].map { " (line \($0))" } ?? ""
}

/// Bytes `count` encoded samples of `structures` would take under `encoding`, from the first
/// 16 encoded (`sitelens check`'s estimate; training measures its own shard the same way).
public func estimatedSampleBytes(_ structures: StructureStore, encoding: InputEncoding, count: Int) throws -> Int {
    let encoder = try SampleEncoder(encoding)
    let probed = try (0..<min(16, structures.count)).map { try encodeSample($0, of: structures, with: encoder) }
    return estimatedBytes(probed: probed, total: count)
}
