import Foundation
import Images
import Structures

/// `InputEncoding` in model files and run.json, tagged by `kind`: `{"kind": "sites", "siteNames":
/// ..., "descriptors": ..., "featureMean": ..., "featureScale": ...}`, `{"kind": "image",
/// "raster": R}`, `{"kind": "patches", "raster": R, "patchSize": P, "spacing": s}` and
/// `{"kind": "radialPatches", "raster": R, "bins": B, "spacing": s}`, R the rasteriser settings.
/// Files written before this form (Swift's synthesized one: `{"image": {"_0": R}}`, ...) are
/// still read.
extension InputEncoding {
    private enum Keys: String, CodingKey { case kind, siteNames, descriptors, featureMean, featureScale, raster, patchSize, bins, spacing }
    /// The synthesized form: the case name, holding the labelled values and `_0` for the settings.
    private enum LegacyKeys: String, CodingKey { case sites, image, patches, radialPatches, _0 }
    private enum Kind: String, Codable { case sites, image, patches, radialPatches }

    public init(from decoder: Decoder) throws {
        let tagged = try decoder.container(keyedBy: Keys.self)
        if tagged.contains(.kind) {
            self = try Self.decode(try tagged.decode(Kind.self, forKey: .kind), values: tagged, raster: { try tagged.decode(RasterSettings.self, forKey: .raster) })
            return
        }
        let cases = try decoder.container(keyedBy: LegacyKeys.self)
        guard cases.allKeys.count == 1, let key = cases.allKeys.first, let kind = Kind(rawValue: key.stringValue) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "no 'kind' of encoding, nor one case of the older form"))
        }
        let values = try cases.nestedContainer(keyedBy: Keys.self, forKey: key)
        let settings = try? cases.nestedContainer(keyedBy: LegacyKeys.self, forKey: key)
        self = try Self.decode(kind, values: values) {
            guard let settings else { throw DecodingError.keyNotFound(LegacyKeys._0, .init(codingPath: values.codingPath, debugDescription: "")) }
            return try settings.decode(RasterSettings.self, forKey: ._0)
        }
    }

    private static func decode(_ kind: Kind, values: KeyedDecodingContainer<Keys>, raster: () throws -> RasterSettings) throws -> Self {
        switch kind {
        case .sites:
            return .sites(siteNames: try values.decode([String].self, forKey: .siteNames),
                          descriptors: try values.decode(ElementDescriptors.self, forKey: .descriptors),
                          featureMean: try values.decode([Double].self, forKey: .featureMean),
                          featureScale: try values.decode([Double].self, forKey: .featureScale))
        case .image: return .image(try raster())
        case .patches:
            return .patches(try raster(), patchSize: try values.decode(Int.self, forKey: .patchSize), spacing: try values.decode(Double.self, forKey: .spacing))
        case .radialPatches:
            return .radialPatches(try raster(), bins: try values.decode(Int.self, forKey: .bins), spacing: try values.decode(Double.self, forKey: .spacing))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var tagged = encoder.container(keyedBy: Keys.self)
        switch self {
        case .sites(let siteNames, let descriptors, let featureMean, let featureScale):
            try tagged.encode(Kind.sites, forKey: .kind)
            try tagged.encode(siteNames, forKey: .siteNames)
            try tagged.encode(descriptors, forKey: .descriptors)
            try tagged.encode(featureMean, forKey: .featureMean)
            try tagged.encode(featureScale, forKey: .featureScale)
        case .image(let raster):
            try tagged.encode(Kind.image, forKey: .kind)
            try tagged.encode(raster, forKey: .raster)
        case .patches(let raster, let patchSize, let spacing):
            try tagged.encode(Kind.patches, forKey: .kind)
            try tagged.encode(raster, forKey: .raster)
            try tagged.encode(patchSize, forKey: .patchSize)
            try tagged.encode(spacing, forKey: .spacing)
        case .radialPatches(let raster, let bins, let spacing):
            try tagged.encode(Kind.radialPatches, forKey: .kind)
            try tagged.encode(raster, forKey: .raster)
            try tagged.encode(bins, forKey: .bins)
            try tagged.encode(spacing, forKey: .spacing)
        }
    }
}
