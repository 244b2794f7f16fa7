/// The three model families SiteLens trains.
public enum ModelKind: String, Codable, Sendable, CaseIterable {
    /// Seed A's site network: per site, [element descriptors ⊕ one-hot(site)] → Dense(tanh) → Dense(1); E = Σ sites.
    case sites
    /// Seed B's image CNN (Ryczko et al.): one image per structure → one energy.
    case ryczko
    /// Per-atom patches through a shared small CNN → ε_atom; E = Σ atoms (exact contributions).
    case atomic

    /// Whether the item count of a structure varies from structure to structure (its atoms or
    /// sites), so that training's passes come in many sizes; ryczko's one image per structure
    /// gives a few fixed sizes (the batch's chunks, an epoch's last batch).
    public var itemCountVaries: Bool { self != .ryczko }
}

/// A layer's activation.
public enum Activation: String, Codable, Sendable {
    case identity, relu, tanh
}

/// One layer of an architecture, in Keras's terms.
public enum LayerSpec: Codable, Sendable, Equatable {
    /// Fully connected; kernel [inputs, units] as Keras stores it.
    case dense(units: Int, activation: Activation, bias: Bool)
    /// 2-D convolution with Keras "same" padding; kernel [k, k, in, filters] as Keras stores it.
    case conv(filters: Int, kernel: Int, stride: Int, activation: Activation, bias: Bool)
    /// Flattens h×w×c to one vector (NHWC order, as Keras's Flatten on channels-last data).
    case flatten
}

/// A network that maps each input item (a site, an atom's patch or a whole image) to one number;
/// a structure's energy is the sum over its items.
public struct Architecture: Codable, Sendable, Equatable {
    public var kind: ModelKind
    /// Shape of one item: height, width, channels (a site's feature vector is 1×1×F).
    public var itemHeight: Int
    public var itemWidth: Int
    public var itemChannels: Int
    public var layers: [LayerSpec]
    /// How the weights were initialised (nil, as in older model files: He for ReLU layers).
    public var initialisation: WeightInitialisation?

    public init(kind: ModelKind, itemHeight: Int, itemWidth: Int, itemChannels: Int, layers: [LayerSpec],
                initialisation: WeightInitialisation? = nil) {
        self.initialisation = initialisation
        self.kind = kind
        self.itemHeight = itemHeight
        self.itemWidth = itemWidth
        self.itemChannels = itemChannels
        self.layers = layers
    }

    /// Values per item (Int.max when the product overflows, so it fails every size check).
    public var itemSize: Int { ModelBudget.product([itemHeight, itemWidth, itemChannels]) ?? Int.max }

    /// Checks, with overflow-checked arithmetic and before any network is built, that every
    /// layer is well formed and that parameters and per-item activations fit `ModelBudget`;
    /// the message says which layer asked for how much.
    public func checkSize() throws {
        guard layers.count <= ModelBudget.layers else {
            throw NetworkError("\(layers.count) layers; the budget is \(ModelBudget.layers)")
        }
        var (h, w, c) = (itemHeight, itemWidth, itemChannels)
        guard h >= 1, w >= 1, c >= 1, let inputs = ModelBudget.product([h, w, c]), inputs <= ModelBudget.activationsPerItem else {
            throw NetworkError("item shape \(h)×\(w)×\(c): each side must be at least 1 and their product at most \(ModelBudget.activationsPerItem)")
        }
        var parameters = 0
        func addParameters(_ shape: [Int], layer: Int) throws {
            guard let count = ModelBudget.product(shape), case let (total, false) = parameters.addingReportingOverflow(count),
                  total <= ModelBudget.parameters else {
                throw NetworkError("layer \(layer) (parameters \(shape)) brings the model past the budget of \(ModelBudget.parameters) parameters")
            }
            parameters = total
        }
        for (index, spec) in layers.enumerated() {
            switch spec {
            case .flatten:
                (h, w, c) = (1, 1, h * w * c)  // within the activation budget already
            case .dense(let units, _, let bias):
                guard (1...ModelBudget.width).contains(units) else {
                    throw NetworkError("layer \(index): Dense needs 1...\(ModelBudget.width) units, got \(units)")
                }
                try addParameters([c, units], layer: index)
                if bias { try addParameters([units], layer: index) }
                c = units
            case .conv(let filters, let kernel, let stride, _, let bias):
                guard (1...ModelBudget.width).contains(filters), (1...ModelBudget.kernel).contains(kernel),
                      (1...ModelBudget.kernel).contains(stride) else {
                    throw NetworkError("layer \(index): Conv needs 1...\(ModelBudget.width) filters and kernel and stride in 1...\(ModelBudget.kernel); "
                                       + "got \(filters) filters, kernel \(kernel), stride \(stride)")
                }
                try addParameters([kernel, kernel, c, filters], layer: index)
                if bias { try addParameters([filters], layer: index) }
                (h, w) = ((h + stride - 1) / stride, (w + stride - 1) / stride)
                // The unfolded input (im2col) of one item: output pixels × k·k·c.
                guard let outputs = ModelBudget.product([h, w, filters]), outputs <= ModelBudget.activationsPerItem,
                      let unfolded = ModelBudget.product([h, w, kernel, kernel, c]), unfolded <= ModelBudget.unfoldedPerItem else {
                    throw NetworkError("layer \(index): Conv of \(filters) filters (\(kernel)×\(kernel)) on \(h)×\(w)×\(c) per item "
                                       + "exceeds the budget of \(ModelBudget.activationsPerItem) outputs or \(ModelBudget.unfoldedPerItem) unfolded values per item")
                }
                c = filters
            }
        }
    }
}

/// What an architecture (from options or a model file) may make a network allocate, checked
/// by `Architecture.checkSize` before anything is allocated.
public enum ModelBudget {
    /// Parameters: 2²⁷ floats (512 MiB; training holds gradients and Adam moments besides).
    public static let parameters = 1 << 27
    /// Values one item gives out of any layer: 2²⁴ floats (64 MiB).
    public static let activationsPerItem = 1 << 24
    /// Values of one item's unfolded convolution input (im2col): 2²⁶ floats (256 MiB).
    public static let unfoldedPerItem = 1 << 26
    /// Units of a dense layer, filters of a convolution: 2¹⁶.
    public static let width = 1 << 16
    /// Convolution kernel side and stride.
    public static let kernel = 64
    /// Layers of one network.
    public static let layers = 256

    /// The product of `factors`, or nil when it overflows or a factor is negative.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow else { return nil }
            result = next
        }
        return result
    }
}

/// Where each named parameter tensor lives in the one flat buffer.
public struct ParameterLayout: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }
    public private(set) var entries: [Entry] = []
    public private(set) var count = 0

    mutating func add(_ name: String, _ shape: [Int]) -> Int {
        let offset = count
        entries.append(Entry(name: name, shape: shape, offset: offset))
        count += shape.reduce(1, *)
        return offset
    }
}

/// Errors in an architecture or in data given to it.
public struct NetworkError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
