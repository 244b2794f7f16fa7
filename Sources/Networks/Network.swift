import Basics

/// An architecture made runnable: the parameter layout in one flat buffer, one kernel per
/// layer, and forward and backward over a batch of items. Parameters and gradients are owned by
/// the caller (the trainer keeps one flat buffer of each, as llm.c does); the network keeps
/// only activations and the kernels their own state.
public final class Network {
    public let architecture: Architecture
    public let layout: ParameterLayout
    let kernels: [any LayerKernel]

    /// Each layer's output for every item of the batch (bf16 in the buffer's first half where
    /// the layer's `formats.output` says so). Owned memory (not arrays) so that pointers into it
    /// stay valid across layers, each buffer at its own offset within a page (`PageOffset`).
    private var activations: [StaggeredBuffer]
    /// Two input/output gradient buffers used in turn by backward.
    private var gradientA = StaggeredBuffer(), gradientB = StaggeredBuffer()
    /// Items of the last forward pass: backward must follow a forward of the same items.
    private var forwardItems: Int?
    /// Every layer runs on a multiple of this many items, zero items padding the rest: the
    /// convolution backend's `itemMultiple` when there are convolutions and item counts vary
    /// (oneDNN makes its primitives per item count, and atoms would otherwise bring new ones
    /// nearly every call), else 1. Images are not padded: their few pass sizes each keep their
    /// primitives, and padding an epoch's small last batch split over ranks made each rank run
    /// mostly zero images (Benchmarks.md, "Scaling over ranks"). A zero item's output gradient is
    /// zero, so padding adds exact zeros to the parameter gradients.
    public let itemMultiple: Int
    /// The input copied with its padding items, when the item count needs them (backward reads it).
    private var paddedInput = StaggeredBuffer()

    /// `convolutionBackend` makes the kernels of the convolution layers, computing in `precision`;
    /// neither changes the (Float) parameter layout, so a model file or checkpoint runs on any backend.
    public convenience init(_ architecture: Architecture, convolutionBackend: ConvolutionBackend = .standard,
                            precision: ConvolutionPrecision = .standard) throws {
        try self.init(architecture, convolutionBackend: convolutionBackend, precision: precision,
                      bf16Activations: convolutionBackend.engine.holdsBF16Activations)
    }

    /// `bf16Activations`: whether activations between two bf16 convolutions are held in bf16
    /// (`ActivationFormat`; tests compare it with the Float-held network it must equal).
    init(_ architecture: Architecture, convolutionBackend: ConvolutionBackend, precision: ConvolutionPrecision,
         bf16Activations: Bool) throws {
        self.architecture = architecture
        let bf16After = precision == .bf16 && bf16Activations ? Self.bf16Boundaries(architecture.layers) : []
        var layout = ParameterLayout()
        var kernels: [any LayerKernel] = []
        var convolves = false
        var (h, w, c) = (architecture.itemHeight, architecture.itemWidth, architecture.itemChannels)
        // Bounds keep every size (and the Int32 counts BLAS and oneDNN take) far from overflow.
        let limit = 1 << 24
        guard h > 0, w > 0, c > 0, h <= limit / w, h * w <= limit / c else {
            throw NetworkError("item shape \(h)×\(w)×\(c) is empty or too large")
        }
        for (index, spec) in architecture.layers.enumerated() {
            switch spec {
            case .flatten:
                (h, w, c) = (1, 1, h * w * c)
            case .dense(let units, let activation, let bias):
                guard h == 1 && w == 1 else { throw NetworkError("layer \(index): Dense needs a flat input; add flatten before it") }
                guard units >= 1, units <= limit, c <= limit / units else { throw NetworkError("layer \(index): bad Dense width \(units)") }
                let weights = layout.range("layer\(index).dense.kernel", [c, units])
                let biases = bias ? layout.range("layer\(index).dense.bias", [units]) : nil
                let parameters = LayerParameters(weights: weights, bias: biases, fanIn: c, fanOut: units)
                kernels.append(DenseKernel(inputs: c, units: units, activation: activation, parameters: parameters))
                c = units
            case .conv(let filters, let kernel, let stride, let activation, let bias):
                guard kernel >= 1, kernel <= 64, stride >= 1, stride <= 64, filters >= 1, filters <= 1 << 16,
                      kernel * kernel * c <= limit / filters, h * w <= limit / filters else {
                    throw NetworkError("layer \(index): bad convolution")
                }
                let g = ConvGeometry(inHeight: h, inWidth: w, inChannels: c, kernel: kernel, stride: stride, filters: filters)
                let weights = layout.range("layer\(index).conv.kernel", [kernel, kernel, c, filters])
                let biases = bias ? layout.range("layer\(index).conv.bias", [filters]) : nil
                let parameters = LayerParameters(weights: weights, bias: biases, fanIn: kernel * kernel * c,
                                                 fanOut: kernel * kernel * filters)
                if let refusal = convolutionBackend.refusal(of: precision) { throw NetworkError(refusal) }
                let formats = ActivationFormats(input: bf16After.contains(index - 1) ? .bf16 : .float,
                                                output: bf16After.contains(index) ? .bf16 : .float)
                kernels.append(try convolutionBackend.engine.makeKernel(g, activation: activation, parameters: parameters,
                                                                         precision: precision, formats: formats))
                convolves = true
                (h, w, c) = (g.outHeight, g.outWidth, filters)
            }
        }
        guard h * w * c == 1 else { throw NetworkError("the network must end in one number per item, not \(h)×\(w)×\(c)") }
        self.layout = layout
        self.kernels = kernels
        self.activations = Array(repeating: StaggeredBuffer(), count: kernels.count)
        itemMultiple = convolves && architecture.kind.itemCountVaries ? convolutionBackend.engine.itemMultiple : 1
    }

    /// The layers (indices into `layers`) whose output is held in bf16 under bf16 convolutions:
    /// a convolution whose output goes straight into another and whose activation is ReLU or none
    /// (whose derivative reads the same off a bf16 output as off the Float one).
    static func bf16Boundaries(_ layers: [LayerSpec]) -> Set<Int> {
        Set(layers.indices.dropLast().filter { index in
            guard case .conv(_, _, _, let activation, _) = layers[index], activation != .tanh,
                  case .conv = layers[index + 1] else { return false }
            return true
        })
    }

    deinit {
        for buffer in activations + [paddedInput, gradientA, gradientB] { buffer.deallocate() }
    }

    /// `items` rounded up to a multiple of `itemMultiple`.
    func paddedCount(_ items: Int) -> Int {
        (items + itemMultiple - 1) / itemMultiple * itemMultiple
    }

    /// The network's input for `items` items: `input` itself, or a copy followed by zero items.
    private func inputWithPadding(_ input: UnsafePointer<Float>, items: Int) -> UnsafePointer<Float> {
        let padded = paddedCount(items)
        guard padded != items else { return input }
        let (count, total) = (items * architecture.itemSize, padded * architecture.itemSize)
        if paddedInput.count < total {
            paddedInput.deallocate()
            paddedInput = StaggeredBuffer(count: total, pageOffset: PageOffset.input)
        }
        paddedInput.baseAddress!.update(from: input, count: count)
        (paddedInput.baseAddress! + count).update(repeating: 0, count: total - count)
        return UnsafePointer(paddedInput.baseAddress!)
    }

    /// Where in a page each buffer starts (`StaggeredBuffer`), so that no two a kernel streams
    /// together start at the same offset: neighbouring layers' outputs 512 bytes apart, the
    /// gradient buffers and the padded input on the odd multiples of 256 between them.
    private enum PageOffset {
        static func activation(_ l: Int) -> Int { l % 8 * 512 }
        static let gradientA = 256, gradientB = 768, input = 1280
    }

    /// Layer `l`'s output buffer, grown to hold at least `count` values.
    private func activation(_ l: Int, holding count: Int) -> UnsafeMutablePointer<Float> {
        if activations[l].count < count {
            activations[l].deallocate()
            activations[l] = StaggeredBuffer(count: count, pageOffset: PageOffset.activation(l))
        }
        return activations[l].baseAddress!
    }

    public var parameterCount: Int { layout.count }

    /// Where each layer's parameters (weights, then bias) sit in the flat buffer, indexed as
    /// `backward`'s `afterLayer` counts layers (those that compute: Flatten has none).
    public var layerParameterRanges: [Range<Int>] {
        kernels.map { kernel in
            let p = kernel.parameters
            return p.weights.lowerBound..<max(p.weights.upperBound, p.bias?.upperBound ?? 0)
        }
    }

    /// The initial parameters under the scheme the architecture records (`Initialiser.swift`).
    public func initialParameters(seed: UInt64) -> [Float] {
        Initialiser(architecture.initialisation ?? .he).parameters(for: self, seed: seed)
    }

    /// One number per item: runs every layer over `items` inputs of `architecture.itemSize` values each.
    public func forward(_ input: UnsafePointer<Float>, items: Int, parameters: UnsafePointer<Float>) throws -> [Float] {
        precondition(items >= 0, "forward of a negative item count")
        forwardItems = nil  // a forward that fails part way leaves nothing backward may follow
        // No items (an atomic structure of dummy atoms only): no outputs; their sum is 0.
        if items == 0 { forwardItems = 0; return [] }
        let padded = paddedCount(items)
        var current = inputWithPadding(input, items: items)
        for (l, kernel) in kernels.enumerated() {
            let output = activation(l, holding: padded * kernel.outputSize)
            try kernel.forward(current, into: output, items: padded, parameters: parameters)
            current = UnsafePointer(output)
        }
        forwardItems = items
        return Array(UnsafeBufferPointer(start: current, count: items))
    }

    /// Layer `l`'s output (after its activation) for the `items` items of the last forward pass.
    func output(ofLayer l: Int, items: Int) -> [Float] {
        precondition(forwardItems == items, "the outputs of a forward of \(items) items")
        precondition(kernels[l].formats.output == .float, "layer \(l)'s output is held in bf16")
        return Array(UnsafeBufferPointer(start: activations[l].baseAddress, count: items * kernels[l].outputSize))
    }

    /// Adds the gradient of Σ_items outputGradient[i]·output[i] with respect to the parameters
    /// to `gradients`. Must follow `forward` on the same input (checked by the item count: a
    /// mismatch is a programming error).
    public func backward(_ outputGradient: [Float], input: UnsafePointer<Float>, items: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) throws {
        try backward(outputGradient, input: input, items: items, parameters: parameters, gradients: gradients, afterLayer: { _ in })
    }

    /// `backward`, calling `afterLayer(l)` as soon as layer `l`'s gradients
    /// (`layerParameterRanges[l]`) are complete, last layer first: the trainer starts reducing
    /// them across ranks while the earlier layers' backward runs.
    public func backward(_ outputGradient: [Float], input: UnsafePointer<Float>, items: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                         afterLayer: (Int) throws -> Void) throws {
        precondition(forwardItems == items && outputGradient.count == items,
                     "backward of \(items) items must follow a forward of the same items (last forward: \(forwardItems.map(String.init) ?? "none"))")
        // Nothing to add, but every layer is still reported: the reduction across ranks counts on it.
        if items == 0 { for l in stride(from: kernels.count - 1, through: 0, by: -1) { try afterLayer(l) }; return }
        let padded = paddedCount(items)
        // Forward copied a padded input where it needed one; its padding items get zero gradients.
        let networkInput = padded == items ? input : UnsafePointer(paddedInput.baseAddress!)
        let largest = kernels.map { max($0.inputSize, $0.outputSize) }.max()! * padded
        if gradientA.count < largest {
            for buffer in [gradientA, gradientB] { buffer.deallocate() }
            gradientA = StaggeredBuffer(count: largest, pageOffset: PageOffset.gradientA)
            gradientB = StaggeredBuffer(count: largest, pageOffset: PageOffset.gradientB)
        }
        var dOut = gradientA.baseAddress!, dIn = gradientB.baseAddress!
        dOut.update(from: outputGradient, count: items)
        (dOut + items).update(repeating: 0, count: padded - items)
        for l in stride(from: kernels.count - 1, through: 0, by: -1) {
            let layerInput: UnsafePointer<Float> = l == 0 ? networkInput : UnsafePointer(activations[l - 1].baseAddress!)
            try kernels[l].backward(dOut, output: UnsafePointer(activations[l].baseAddress!), input: layerInput, items: padded,
                                    parameters: parameters, gradients: gradients, inputGradient: l == 0 ? nil : dIn)
            try afterLayer(l)
            swap(&dOut, &dIn)
        }
    }

    /// How many items one forward + backward can take at once within `bytes` of activations:
    /// each layer's output, the two gradient buffers, and as much again for the copies a
    /// library keeps in its own layouts. At least one.
    public func itemsWithin(bytes: Int) -> Int {
        let activationValues = kernels.reduce(0) { $0 + $1.outputSize }
        let gradientValues = 2 * kernels.map { max($0.inputSize, $0.outputSize) }.max()!
        let bytesPerItem = 2 * MemoryLayout<Float>.size * (activationValues + gradientValues)
        return max(1, bytes / bytesPerItem)
    }

    /// Multiply-adds of one forward pass of one item (for GFLOP/s figures: ×2 for FLOPs, ×3 with backward).
    public var multiplyAddsPerItem: Int { kernels.reduce(0) { $0 + $1.multiplyAddsPerItem } }
}

extension ParameterLayout {
    /// Adds a tensor and returns its place in the flat buffer.
    mutating func range(_ name: String, _ shape: [Int]) -> Range<Int> {
        let offset = add(name, shape)
        return offset..<(offset + shape.reduce(1, *))
    }
}
