import Basics
import Images
import Structures

/// How a structure becomes a network's input items, recorded with every saved model.
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
    public var itemShape: (height: Int, width: Int, channels: Int) {
        switch self {
        case .sites(let names, let descriptors, _, _):
            let (channels, overflow) = descriptors.names.count.addingReportingOverflow(names.count)
            return (1, 1, overflow ? Int.max : channels)
        case .image(let settings): return (settings.gridSize, settings.gridSize, settings.channelCount)
        case .patches(let settings, let size, _): return (size, size, settings.channelCount)
        case .radialPatches(let settings, let bins, _): return (1, bins, settings.baseChannelCount)
        }
    }

    /// Checks the encoding's own values (a model file's, say): standardisation of the right
    /// length, finite and positive; site names present and distinct; rasteriser settings valid.
    public func check() throws {
        switch self {
        case .sites(let siteNames, let descriptors, let mean, let scale):
            let width = descriptors.names.count
            guard !siteNames.isEmpty, Set(siteNames).count == siteNames.count, !siteNames.contains("") else {
                throw NetworkError("siteNames must be present, non-empty and distinct, got \(siteNames)")
            }
            guard width >= 1, mean.count == width, scale.count == width else {
                throw NetworkError("featureMean (\(mean.count)) and featureScale (\(scale.count)) need one value per descriptor (\(width))")
            }
            guard mean.allSatisfy(\.isFinite), scale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
                throw NetworkError("featureMean must be finite and featureScale finite and positive")
            }
            for (element, vector) in descriptors.values where vector.count != width || !vector.allSatisfy(\.isFinite) {
                throw NetworkError("descriptors of \(element) need \(width) finite values, got \(vector)")
            }
        case .image(let settings):
            try settings.validate()
        case .patches(let settings, let size, let spacing):
            try Rasteriser(settings: settings).checkPatches(size: size, spacing: spacing)
        case .radialPatches(let settings, let bins, let spacing):
            try RadialRasteriser.check(settings: settings, bins: bins, spacing: spacing)
        }
    }

    /// The sites encoding with descriptor standardisation fitted to `elements`.
    public static func sites(siteNames: [String], descriptors: ElementDescriptors, elements: [String]) throws -> InputEncoding {
        let vectors = try elements.map { try descriptors.vector($0) }
        let width = descriptors.names.count
        var mean = [Double](repeating: 0, count: width), scale = [Double](repeating: 1, count: width)
        for k in 0..<width {
            let column = vectors.map { $0[k] }
            mean[k] = column.reduce(0, +) / Double(column.count)
            let variance = column.map { ($0 - mean[k]) * ($0 - mean[k]) }.reduce(0, +) / Double(column.count)
            scale[k] = variance > 1e-12 ? variance.squareRoot() : 1
        }
        return .sites(siteNames: siteNames, descriptors: descriptors, featureMean: mean, featureScale: scale)
    }
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

/// Turns structures into items by an `InputEncoding`.
public struct SampleEncoder: Sendable {
    public let encoding: InputEncoding
    let rasteriser: Rasteriser?
    let radialRasteriser: RadialRasteriser?

    public init(_ encoding: InputEncoding) throws {
        try encoding.check()
        self.encoding = encoding
        switch encoding {
        case .sites:
            (rasteriser, radialRasteriser) = (nil, nil)
        case .image(let settings), .patches(let settings, _, _):
            (rasteriser, radialRasteriser) = (try Rasteriser(settings: settings), nil)
        case .radialPatches(let settings, let bins, let spacing):
            rasteriser = nil
            radialRasteriser = try RadialRasteriser(settings: settings, bins: bins, spacing: spacing)
        }
    }

    /// An element the model never saw would be encoded as garbage (no descriptors) or left out
    /// of every channel: refuse it, naming what the model knows.
    func checkKnown(_ structure: Structure) throws {
        let known: Set<String>
        switch encoding {
        case .sites(_, let descriptors, _, _): known = Set(descriptors.values.keys)
        case .patches(let settings, _, _), .radialPatches(let settings, _, _):
            guard case .species(let list) = settings.channels else { return }
            known = Set(list)
        case .image: return  // a species subset is a documented choice for whole images
        }
        for symbol in Set(structure.symbols) where !Structure.isDummy(symbol) && !known.contains(symbol) {
            throw NetworkError("element \(symbol) was not in the model's training data (it knows \(PeriodicTable.inTableOrder(known).joined(separator: ", ")))")
        }
    }

    /// The feature vector of element `element` at site index `site` (sites encoding only).
    public func siteFeatures(element: String, site: Int) throws -> [Float] {
        guard case .sites(let names, let descriptors, let mean, let scale) = encoding else {
            throw NetworkError("site features exist only for the sites model")
        }
        let raw = try descriptors.vector(element)
        guard raw.count == mean.count, raw.count == scale.count, names.indices.contains(site) else {
            throw NetworkError("element \(element) at site \(site): descriptors and standardisation disagree in length")
        }
        var features = raw.enumerated().map { Float(($0.element - mean[$0.offset]) / scale[$0.offset]) }
        features += (0..<names.count).map { $0 == site ? 1 : 0 }
        return features
    }

    public func encode(_ structure: Structure) throws -> EncodedStructure {
        try checkKnown(structure)
        switch encoding {
        case .sites(let names, _, _, _):
            guard let labels = structure.siteLabels else {
                throw NetworkError("the sites model needs site labels (a site table, or an extxyz 'site' column)")
            }
            var values: [Float] = []
            var elements: [String?] = []
            for (index, name) in names.enumerated() {
                guard let atom = labels.firstIndex(of: name), structure.symbols.indices.contains(atom) else {
                    throw NetworkError("structure has no atom at site '\(name)'")
                }
                values += try siteFeatures(element: structure.symbols[atom], site: index)
                elements.append(structure.symbols[atom])
            }
            return EncodedStructure(values: values, labels: names, elements: elements)
        case .image:
            guard let rasteriser else { throw NetworkError("no rasteriser for an image encoding") }
            let image = try rasteriser.image(of: structure)
            return EncodedStructure(values: channelsLast(image), labels: ["structure"], elements: [nil])
        case .patches(_, let size, let spacing):
            guard let rasteriser else { throw NetworkError("no rasteriser for a patches encoding") }
            let (atoms, patches) = try rasteriser.patches(of: structure, patchSize: size, spacing: spacing)
            return perAtom(structure, atoms: atoms, patches: patches)
        case .radialPatches:
            guard let radialRasteriser else { throw NetworkError("no radial rasteriser for a radial patches encoding") }
            let (atoms, patches) = try radialRasteriser.patches(of: structure)
            return perAtom(structure, atoms: atoms, patches: patches)
        }
    }

    /// One item per atom patch, labelled and typed by its atom.
    private func perAtom(_ structure: Structure, atoms: [Int], patches: [RasterImage]) -> EncodedStructure {
        let labels = structure.groupingLabels
        return EncodedStructure(values: patches.flatMap(channelsLast), labels: atoms.map { labels[$0] },
                                elements: atoms.map { structure.symbols[$0] })
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
