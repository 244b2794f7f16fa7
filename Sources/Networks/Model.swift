import Basics
import Foundation
import Images
import Structures

/// Targets are trained in standard units: t = (E − mean) / scale.
public struct TargetNormalisation: Codable, Sendable, Equatable {
    public var mean: Double
    public var scale: Double
    public init(mean: Double, scale: Double) { self.mean = mean; self.scale = scale }

    /// Fitted to energies (scale 1 when they do not vary).
    public init(fitting energies: [Double]) {
        let mean = energies.reduce(0, +) / Double(max(energies.count, 1))
        let variance = energies.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(energies.count, 1))
        self.init(mean: mean, scale: variance > 1e-24 ? variance.squareRoot() : 1)
    }

    /// Fitted to energies for a model with `encoding`. A per-structure mean suits items whose
    /// count is fixed (sites, one whole image); an encoding may leave it out (mean 0,
    /// `EncodingScheme.centresEnergies`: radial atom patches, `AtomicModel.swift`).
    public init(fitting energies: [Double], for encoding: InputEncoding) {
        self.init(fitting: energies)
        if !encoding.owner.scheme.centresEnergies { mean = 0 }
    }
}

extension TargetNormalisation {
    /// Mean and scale within what model files accept (`ModelDescription.largestNormalisation`),
    /// the scale positive: `training` and `predict` apply the same rule. `error` makes the
    /// error from the field and the problem.
    public func check(_ error: (_ field: String, _ problem: String) -> Error) throws {
        let largest = ModelDescription.largestNormalisation
        for (field, value) in [("normalisation.mean", mean), ("normalisation.scale", scale)] {
            guard value.isFinite, abs(value) <= largest else {
                throw error(field, "\(value); must be finite and at most \(largest) in size")
            }
        }
        guard scale > 0 else { throw error("normalisation.scale", "\(scale); must be positive") }
    }
}

/// Range and spread of a set of target energies (eV).
public struct TargetSummary: Codable, Sendable, Equatable {
    public var count: Int
    public var min: Double
    public var max: Double
    public var std: Double

    /// Nil for no finite energies.
    public init?(_ energies: [Double]) {
        let finite = energies.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max() else { return nil }
        let mean = finite.reduce(0, +) / Double(finite.count)
        count = finite.count; min = low; max = high
        std = (finite.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(finite.count)).squareRoot()
    }
}

/// How a member was trained, recorded beside its weights.
public struct TrainingRecord: Codable, Sendable, Equatable {
    public var seed: UInt64
    public var member: Int
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var optimizer: OptimizerKind
    public var validationFraction: Double
    public var trainCount: Int
    public var validationCount: Int
    public var ranks: Int
    /// The errors of the epoch whose weights the file holds (`keptEpoch`).
    public var finalValidationMAE: Double?
    public var finalTrainMAE: Double?
    /// The epoch whose weights the file holds: the best by validation under `--keep best`.
    public var keptEpoch: Int?
    /// The energies the member was trained on, so `predict` can say when it extrapolates.
    public var targets: TargetSummary?

    public init(seed: UInt64, member: Int, epochs: Int, batchSize: Int, learningRate: Double, optimizer: OptimizerKind,
                validationFraction: Double, trainCount: Int, validationCount: Int, ranks: Int) {
        self.seed = seed; self.member = member; self.epochs = epochs; self.batchSize = batchSize
        self.learningRate = learningRate; self.optimizer = optimizer; self.validationFraction = validationFraction
        self.trainCount = trainCount; self.validationCount = validationCount; self.ranks = ranks
    }
}

/// Everything besides the weights that a saved model needs: architecture, input encoding
/// (rasteriser settings or element descriptors), target normalisation and training record.
public struct ModelDescription: Codable, Sendable, Equatable {
    public var format = "sitelens-model"
    public var version = 1
    public var architecture: Architecture
    public var encoding: InputEncoding
    public var normalisation: TargetNormalisation
    public var training: TrainingRecord?

    public init(architecture: Architecture, encoding: InputEncoding, normalisation: TargetNormalisation, training: TrainingRecord? = nil) {
        self.architecture = architecture
        self.encoding = encoding
        self.normalisation = normalisation
        self.training = training
    }
}

/// A trained network ready to predict: description, network and its flat parameter buffer.
public final class EnergyModel {
    public let modelDescription: ModelDescription
    public let network: Network
    public var parameters: [Float]
    public let encoder: SampleEncoder

    public init(modelDescription: ModelDescription, parameters: [Float]) throws {
        self.modelDescription = modelDescription
        try modelDescription.architecture.checkSize()
        self.network = try Network(modelDescription.architecture)
        guard parameters.count == network.parameterCount else {
            throw NetworkError("the architecture has \(network.parameterCount) parameters; \(parameters.count) were given")
        }
        self.parameters = parameters
        self.encoder = try SampleEncoder(modelDescription.encoding)
    }

    /// Each item's contribution in eV: scale·f(item) + mean/items for additive models, so they
    /// sum to the predicted energy; the whole prediction for image models. One structure in one
    /// forward pass (many structures' items in passes of one shape: `BatchedEvaluation`).
    public func contributions(_ encoded: EncodedStructure) throws -> [Double] {
        try contributions(outputs: networkOutputs(encoded)[...])
    }

    /// Each item's network output in eV, scale·f(item), without the constant offset.
    public func scaledOutputs(_ encoded: EncodedStructure) throws -> [Double] {
        try networkOutputs(encoded).map { modelDescription.normalisation.scale * Double($0) }
    }

    /// The contributions of one structure's items from their network outputs f(item).
    func contributions(outputs: ArraySlice<Float>) -> [Double] {
        let offset = modelDescription.normalisation.mean / Double(outputs.count)
        return outputs.map { modelDescription.normalisation.scale * Double($0) + offset }
    }

    private func networkOutputs(_ encoded: EncodedStructure) throws -> [Float] {
        try encoded.values.withUnsafeBufferPointer { input in
            try parameters.withUnsafeBufferPointer { try network.forward(input.baseAddress!, items: encoded.itemCount, parameters: $0.baseAddress!) }
        }
    }

    /// Predicted energy in eV.
    public func predict(_ structure: Structure) throws -> Double {
        try contributions(try encoder.encode(structure)).reduce(0, +)
    }

    // MARK: Files

    /// The parameter buffer as named tensors, in layout order.
    public func tensors() -> [SafeTensors.Tensor] {
        network.layout.entries.map { entry in
            SafeTensors.Tensor(name: entry.name, shape: entry.shape, values: Array(parameters[entry.offset..<(entry.offset + entry.count)]))
        }
    }

    /// Writes `NAME.safetensors` and `NAME.json` into `folder`, each atomically.
    public func save(to folder: URL, name: String) throws {
        try writeAtomically(SafeTensors.encode(tensors(), metadata: ["format": "sitelens", "kind": modelDescription.architecture.kind.rawValue]),
                            to: folder.appendingPathComponent(name + RunFolder.weightsSuffix))
        try writeAtomically(sitelensJSONEncoder(pretty: true).encode(modelDescription), to: folder.appendingPathComponent(name + RunFolder.descriptionSuffix))
    }

    /// Loads `NAME.safetensors` and `NAME.json` from `folder`, checking the description (kind,
    /// sizes, encoding, normalisation) and every tensor's name, shape and values against it.
    public static func load(from folder: URL, name: String) throws -> EnergyModel {
        let jsonURL = folder.appendingPathComponent(name + RunFolder.descriptionSuffix)
        let weightsURL = folder.appendingPathComponent(name + RunFolder.weightsSuffix)
        let modelDescription = try ModelDescription.read(jsonURL.path)
        guard let data = FileManager.default.contents(atPath: weightsURL.path) else {
            throw InputError(file: weightsURL.path, "cannot read the weights")
        }
        let (tensors, metadata) = try SafeTensors.decode(data, file: weightsURL.path)
        if let kind = metadata["kind"], kind != modelDescription.architecture.kind.rawValue {
            throw InputError(file: weightsURL.path, field: "__metadata__.kind",
                             "says '\(kind)' but \(jsonURL.lastPathComponent) describes a \(modelDescription.architecture.kind.rawValue) model")
        }
        let network = try Network(modelDescription.architecture)
        var parameters = [Float](repeating: 0, count: network.parameterCount)
        let byName = Dictionary(tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        guard byName.count == network.layout.entries.count else {
            throw InputError(file: weightsURL.path, field: "safetensors",
                             "holds \(byName.count) tensors; the architecture has \(network.layout.entries.count)")
        }
        for entry in network.layout.entries {
            guard let tensor = byName[entry.name] else {
                throw InputError(file: weightsURL.path, field: entry.name, "missing tensor")
            }
            guard tensor.shape == entry.shape, tensor.values.count == entry.count else {
                throw InputError(file: weightsURL.path, field: entry.name, "shape \(tensor.shape) but the architecture needs \(entry.shape)")
            }
            if let bad = ModelDescription.firstUnacceptableWeight(tensor.values) {
                throw InputError(file: weightsURL.path, field: entry.name,
                                 "value \(bad) is \(tensor.values[bad]); weights must be finite and at most \(ModelDescription.largestWeight) in size")
            }
            parameters.replaceSubrange(entry.offset..<(entry.offset + entry.count), with: tensor.values)
        }
        return try EnergyModel(modelDescription: modelDescription, parameters: parameters)
    }
}

extension ModelDescription {
    /// Largest |weight| accepted from a file: far beyond anything training gives, small enough
    /// that predictions stay finite. Training stops a member whose weights pass it (diverged).
    public static let largestWeight: Float = 1e6
    /// Largest |normalisation mean| and scale, eV: all-electron total energies (−3e6 eV for a
    /// few hundred heavy atoms) are valid targets, so the bound only keeps sums finite.
    public static let largestNormalisation = 1e12

    /// The index of the first weight that is not finite or is larger than `largestWeight`.
    public static func firstUnacceptableWeight(_ values: [Float]) -> Int? {
        values.firstIndex { !$0.isFinite || abs($0) > largestWeight }
    }

    /// Reads and checks a model description file.
    static func read(_ path: String) throws -> ModelDescription {
        guard let json = FileManager.default.contents(atPath: path) else {
            throw InputError(file: path, "cannot read the model description")
        }
        let modelDescription: ModelDescription
        do { modelDescription = try sitelensJSONDecoder().decode(ModelDescription.self, from: json) }
        catch {
            let (field, problem) = decodingProblem(error)
            throw InputError(file: path, field: field, "not a SiteLens model description: \(problem)")
        }
        guard modelDescription.format == "sitelens-model" else {
            throw InputError(file: path, field: "format", "'\(modelDescription.format)'; expected sitelens-model")
        }
        guard modelDescription.version == 1 else {
            throw InputError(file: path, field: "version", "\(modelDescription.version); this SiteLens reads version 1")
        }
        try modelDescription.check(file: path)
        return modelDescription
    }

    /// The parts of a description agree with each other and are within range: kind and
    /// encoding, item shape, sizes (`ModelBudget`), normalisation, encoding values.
    func check(file: String) throws {
        let kind = architecture.kind
        let kindOfEncoding = encoding.kind
        guard kind == kindOfEncoding else {
            throw InputError(file: file, field: "architecture.kind", "'\(kind.rawValue)' but the encoding is that of a \(kindOfEncoding.rawValue) model")
        }
        do { try architecture.checkSize() } catch let error as NetworkError {
            throw InputError(file: file, field: "architecture", error.message)
        }
        let shape = encoding.itemShape
        guard shape.height == architecture.itemHeight, shape.width == architecture.itemWidth, shape.channels == architecture.itemChannels else {
            throw InputError(file: file, field: "architecture.itemChannels",
                             "the architecture takes \(architecture.itemHeight)×\(architecture.itemWidth)×\(architecture.itemChannels) items "
                             + "but the encoding gives \(shape.height)×\(shape.width)×\(shape.channels) (a site, descriptor or channel added or dropped?)")
        }
        try normalisation.check { field, problem in InputError(file: file, field: field, problem) }
        do { try encoding.check() } catch let error as NetworkError {
            throw InputError(file: file, field: "encoding", error.message)
        } catch let error as RasterError {
            throw InputError(file: file, field: "encoding.\(error.field)", error.message)
        }
    }
}
