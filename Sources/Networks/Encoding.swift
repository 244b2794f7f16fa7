import Basics
import Images
import Structures

/// How a structure becomes a network's input items, recorded with every saved model. The cases
/// are the model file's format; each one's code (item shape, checks, encoder) is in its kind's
/// file, found through `ModelRecipe.scheme(for:)`.
public enum InputEncoding: Codable, Sendable, Equatable {
    /// One item per site, in `siteNames` order: standardised element descriptors ⊕ one-hot(site).
    case sites(siteNames: [String], descriptors: ElementDescriptors, featureMean: [Double], featureScale: [Double])
    /// One item per structure: its whole image (channels last).
    case image(RasterSettings)
    /// One item per (non-dummy) atom: its atom-centred patch (channels last).
    case patches(RasterSettings, patchSize: Int, spacing: Double)
    /// One item per (non-dummy) atom: its radial patch, `bins` distances `spacing` Å apart
    /// (1 × bins × channels, channels last; `RadialRasteriser`).
    case radialPatches(RasterSettings, bins: Int, spacing: Double)

    /// Values per item.
    public var itemShape: (height: Int, width: Int, channels: Int) { owner.scheme.itemShape }

    /// Checks the encoding's own values (a model file's, say): standardisation of the right
    /// length, finite and positive; site names present and distinct; rasteriser settings valid.
    public func check() throws { try owner.scheme.check() }
}

/// A structure's items: the values (item after item), and each item's label and atom index.
public struct EncodedStructure: Sendable {
    public let values: [Float]
    /// Site label (or species) of each item; "structure" for whole-image models.
    public let labels: [String]
    /// Element of each item (nil for whole-image items).
    public let elements: [String?]
    public var itemCount: Int { labels.count }

    public init(values: [Float], labels: [String], elements: [String?]) {
        self.values = values
        self.labels = labels
        self.elements = elements
    }
}

/// Each structure's sum of its items' outputs, for items laid out one structure after another
/// (`itemCounts[k]` items for structure k): a structure's energy from per-item outputs.
public func sumsPerStructure<T: BinaryFloatingPoint>(_ outputs: [T], itemCounts: [Int]) -> [T] {
    var sums: [T] = []
    sums.reserveCapacity(itemCounts.count)
    var start = 0
    for count in itemCounts {
        sums.append(outputs[start..<(start + count)].reduce(0, +))
        start += count
    }
    return sums
}

/// Turns structures into items by an `InputEncoding`, with the code of its kind's file.
public struct SampleEncoder: Sendable {
    public let encoding: InputEncoding
    let scheme: any EncodingScheme
    let itemEncoder: any ItemEncoder

    public init(_ encoding: InputEncoding) throws {
        try encoding.check()
        self.encoding = encoding
        scheme = encoding.owner.scheme
        itemEncoder = try scheme.makeEncoder()
    }

    /// An element the model never saw would be encoded as garbage (no descriptors) or left out
    /// of every channel: refuse it, naming what the model knows.
    func checkKnown(_ structure: Structure) throws {
        guard let known = scheme.knownElements else { return }
        for symbol in Set(structure.symbols) where !Structure.isDummy(symbol) && !known.contains(symbol) {
            throw NetworkError("element \(symbol) was not in the model's training data (it knows \(PeriodicTable.inTableOrder(known).joined(separator: ", ")))")
        }
    }

    /// The elements the model can encode (those it was trained on); nil when any will do.
    public var knownElements: Set<String>? { scheme.knownElements }

    /// The feature vector of element `element` at site index `site` (sites encoding only).
    public func siteFeatures(element: String, site: Int) throws -> [Float] {
        guard let sites = scheme as? SiteFeatures else { throw NetworkError("site features exist only for the sites model") }
        return try sites.features(element: element, site: site)
    }

    public func encode(_ structure: Structure) throws -> EncodedStructure {
        try checkKnown(structure)
        return try itemEncoder.encode(structure)
    }
}

/// An image's pixels reordered from channels-first (C, H, W) to channels-last (H, W, C).
public func channelsLast(_ image: RasterImage) -> [Float] {
    let plane = image.height * image.width
    if image.channels == 1 { return image.pixels }
    var out = [Float](repeating: 0, count: image.pixels.count)
    for c in 0..<image.channels {
        for p in 0..<plane { out[p * image.channels + c] = image.pixels[c * plane + p] }
    }
    return out
}
