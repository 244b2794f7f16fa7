import Structures

/// Seed A's site network (`ModelKind.sites`): per site, standardised element descriptors ⊕
/// one-hot(site) → Dense(tanh) → Dense(1); a structure's energy is the sum over its sites, and
/// c(s, e) is read off the network.
struct SitesRecipe: ModelRecipe {
    var kind: ModelKind { .sites }
    var summary: String { "seed A's site network" }
    var decomposition: DecompositionMethod { .readOff }
    var convolves: Bool { false }

    func check(_ options: ModelOptions) throws {
        try options.require(options.hidden, within: 1...ModelBudget.width, option: "hidden", meaning: "sites hidden width")
    }

    func build(for structures: StructureStore, options: ModelOptions) throws -> (Architecture, InputEncoding) {
        let first = try structures.count > 0 ? structures.structure(0) : nil
        guard let first, let labels = first.siteLabels else {
            throw NetworkError("--model sites needs site labels (a site table, or an extxyz 'site' column)")
        }
        // Sites in the order the first structure lists them; dummy markers are not sites.
        let siteNames = zip(labels, first.symbols).filter { !Structure.isDummy($0.1) }.map(\.0)
        let elements = structures.species.filter { !Structure.isDummy($0) }
        let descriptors = try options.descriptors ?? ElementDescriptors.lookUp(for: elements)
        guard !descriptors.names.isEmpty else {
            throw NetworkError("--descriptor-names needs at least one descriptor (\(ElementDescriptors.available.joined(separator: ", ")))")
        }
        let encoding = try InputEncoding.sites(siteNames: siteNames, descriptors: descriptors, elements: elements)
        return (.sites(features: encoding.itemShape.channels, hidden: options.hidden), encoding)
    }

    func imageUse(_ options: ModelOptions) -> ImageUse { .none }

    /// 3000 epochs, the seed notebook's: on the HEA COOH rows they put B2/Nsur1 and T/B1 first
    /// by element spread in every member, where 100 left every site the same (Benchmarks.md).
    func defaults(patchShape: PatchShape) -> ModelDefaults { ModelDefaults(epochs: 3000) }

    func scheme(for encoding: InputEncoding) -> (any EncodingScheme)? {
        guard case .sites(let names, let descriptors, let mean, let scale) = encoding else { return nil }
        return SiteFeatures(siteNames: names, descriptors: descriptors, featureMean: mean, featureScale: scale)
    }
}

/// The sites encoding: one item per site, in `siteNames` order.
struct SiteFeatures: EncodingScheme, ItemEncoder {
    let siteNames: [String]
    let descriptors: ElementDescriptors
    let featureMean: [Double]
    let featureScale: [Double]

    var itemShape: (height: Int, width: Int, channels: Int) {
        let (channels, overflow) = descriptors.names.count.addingReportingOverflow(siteNames.count)
        return (1, 1, overflow ? Int.max : channels)
    }

    /// Standardisation of the right length, finite and positive; site names present and distinct.
    func check() throws {
        let width = descriptors.names.count
        guard !siteNames.isEmpty, Set(siteNames).count == siteNames.count, !siteNames.contains("") else {
            throw NetworkError("siteNames must be present, non-empty and distinct, got \(siteNames)")
        }
        guard width >= 1, featureMean.count == width, featureScale.count == width else {
            throw NetworkError("featureMean (\(featureMean.count)) and featureScale (\(featureScale.count)) need one value per descriptor (\(width))")
        }
        guard featureMean.allSatisfy(\.isFinite), featureScale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw NetworkError("featureMean must be finite and featureScale finite and positive")
        }
        for (element, vector) in descriptors.values where vector.count != width || !vector.allSatisfy(\.isFinite) {
            throw NetworkError("descriptors of \(element) need \(width) finite values, got \(vector)")
        }
    }

    var knownElements: Set<String>? { Set(descriptors.values.keys) }

    func makeEncoder() throws -> any ItemEncoder { self }

    /// The feature vector of element `element` at site index `site`.
    func features(element: String, site: Int) throws -> [Float] {
        let raw = try descriptors.vector(element)
        guard raw.count == featureMean.count, raw.count == featureScale.count, siteNames.indices.contains(site) else {
            throw NetworkError("element \(element) at site \(site): descriptors and standardisation disagree in length")
        }
        var features = raw.enumerated().map { Float(($0.element - featureMean[$0.offset]) / featureScale[$0.offset]) }
        features += (0..<siteNames.count).map { $0 == site ? 1 : 0 }
        return features
    }

    func encode(_ structure: Structure) throws -> EncodedStructure {
        guard let labels = structure.siteLabels else {
            throw NetworkError("the sites model needs site labels (a site table, or an extxyz 'site' column)")
        }
        var values: [Float] = []
        var elements: [String?] = []
        for (index, name) in siteNames.enumerated() {
            guard let atom = labels.firstIndex(of: name), structure.symbols.indices.contains(atom) else {
                throw NetworkError("structure has no atom at site '\(name)'")
            }
            values += try features(element: structure.symbols[atom], site: index)
            elements.append(structure.symbols[atom])
        }
        return EncodedStructure(values: values, labels: siteNames, elements: elements)
    }
}

extension InputEncoding {
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

extension Architecture {
    /// Seed A: features → Dense(hidden, tanh, no bias) → Dense(1, no bias).
    public static func sites(features: Int, hidden: Int) -> Architecture {
        Architecture(kind: .sites, itemHeight: 1, itemWidth: 1, itemChannels: features,
                     layers: [.dense(units: hidden, activation: .tanh, bias: false),
                              .dense(units: 1, activation: .identity, bias: false)])
    }
}
