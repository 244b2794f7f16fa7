import Foundation

/// `RasterSettings.Channels` in model files: `{"kind": "single"}`, `{"kind": "species",
/// "species": [...]}` or `{"kind": "descriptor", "name": ..., "weights": {...}}`. Files written
/// before this form (Swift's synthesized one: `{"single": {}}`, `{"species": {"_0": [...]}}`,
/// `{"descriptor": {"name": ..., "weights": ...}}`) are still read.
extension RasterSettings.Channels {
    private enum Keys: String, CodingKey { case kind, species, name, weights }
    /// The synthesized form's keys: the case names, and `_0` for the unlabelled species list.
    private enum LegacyKeys: String, CodingKey { case single, species, descriptor, _0 }
    private enum Kind: String, Codable { case single, species, descriptor }

    public init(from decoder: Decoder) throws {
        let tagged = try decoder.container(keyedBy: Keys.self)
        guard tagged.contains(.kind) else { self = try Self.legacy(decoder); return }
        switch try tagged.decode(Kind.self, forKey: .kind) {
        case .single: self = .single
        case .species: self = .species(try tagged.decode([String].self, forKey: .species))
        case .descriptor:
            self = .descriptor(name: try tagged.decode(String.self, forKey: .name), weights: try tagged.decode([String: Double].self, forKey: .weights))
        }
    }

    private static func legacy(_ decoder: Decoder) throws -> Self {
        let cases = try decoder.container(keyedBy: LegacyKeys.self)
        guard cases.allKeys.count == 1 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no 'kind' of channels, nor one case of the older form"))
        }
        if cases.contains(.single) { return .single }
        if cases.contains(.species) {
            return .species(try cases.nestedContainer(keyedBy: LegacyKeys.self, forKey: .species).decode([String].self, forKey: ._0))
        }
        let descriptor = try cases.nestedContainer(keyedBy: Keys.self, forKey: .descriptor)
        return .descriptor(name: try descriptor.decode(String.self, forKey: .name), weights: try descriptor.decode([String: Double].self, forKey: .weights))
    }

    public func encode(to encoder: Encoder) throws {
        var tagged = encoder.container(keyedBy: Keys.self)
        switch self {
        case .single: try tagged.encode(Kind.single, forKey: .kind)
        case .species(let species):
            try tagged.encode(Kind.species, forKey: .kind)
            try tagged.encode(species, forKey: .species)
        case .descriptor(let name, let weights):
            try tagged.encode(Kind.descriptor, forKey: .kind)
            try tagged.encode(name, forKey: .name)
            try tagged.encode(weights, forKey: .weights)
        }
    }
}
