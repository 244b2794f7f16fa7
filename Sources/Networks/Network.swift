import Basics

/// An architecture made runnable: the parameter layout in one flat buffer, and forward and
/// backward over a batch of items. Parameters and gradients are owned by the caller (the
/// trainer keeps one flat buffer of each, as llm.c does); the network keeps only activations.
public final class Network {
    public let architecture: Architecture
    public let layout: ParameterLayout

    struct Compiled {
        let spec: LayerSpec
        let inputs: Int        // values per item going in
        let outputs: Int       // values per item coming out
        let geometry: ConvGeometry?
        let weightOffset: Int
        let biasOffset: Int?
        let activation: Activation
        let fanIn: Int, fanOut: Int
    }
    let layers: [Compiled]

    // Workspace, grown as needed: each layer's output for every item of the batch, two
    // gradient buffers used in turn, and the im2col matrix of one chunk of items.
    /// Owned memory (not arrays) so that pointers into it stay valid across layers.
    private var activations: [UnsafeMutableBufferPointer<Float>]
    private var gradientA: [Float] = []
    private var gradientB: [Float] = []
    private var columns: [Float] = []
    /// Most im2col values held at once; convolutions run over items in chunks that fit.
    private let columnBudget = 1 << 23

    public init(_ architecture: Architecture) throws {
        self.architecture = architecture
        var layout = ParameterLayout()
        var compiled: [Compiled] = []
        var (h, w, c) = (architecture.itemHeight, architecture.itemWidth, architecture.itemChannels)
        guard h > 0, w > 0, c > 0 else { throw NetworkError("item shape \(h)×\(w)×\(c) is empty") }
        for (index, spec) in architecture.layers.enumerated() {
            switch spec {
            case .flatten:
                (h, w, c) = (1, 1, h * w * c)
            case .dense(let units, let activation, let bias):
                guard h == 1 && w == 1 else { throw NetworkError("layer \(index): Dense needs a flat input; add flatten before it") }
                let weight = layout.add("layer\(index).dense.kernel", [c, units])
                let biasOffset = bias ? layout.add("layer\(index).dense.bias", [units]) : nil
                compiled.append(Compiled(spec: spec, inputs: c, outputs: units, geometry: nil, weightOffset: weight,
                                         biasOffset: biasOffset, activation: activation, fanIn: c, fanOut: units))
                c = units
            case .conv(let filters, let kernel, let stride, let activation, let bias):
                guard kernel >= 1, stride >= 1, filters >= 1 else { throw NetworkError("layer \(index): bad convolution") }
                let g = ConvGeometry(inHeight: h, inWidth: w, inChannels: c, kernel: kernel, stride: stride, filters: filters)
                let weight = layout.add("layer\(index).conv.kernel", [kernel, kernel, c, filters])
                let biasOffset = bias ? layout.add("layer\(index).conv.bias", [filters]) : nil
                compiled.append(Compiled(spec: spec, inputs: g.inSize, outputs: g.outSize, geometry: g, weightOffset: weight,
                                         biasOffset: biasOffset, activation: activation,
                                         fanIn: kernel * kernel * c, fanOut: kernel * kernel * filters))
                (h, w, c) = (g.outHeight, g.outWidth, filters)
            }
        }
        guard h * w * c == 1 else { throw NetworkError("the network must end in one number per item, not \(h)×\(w)×\(c)") }
        self.layout = layout
        self.layers = compiled
        self.activations = Array(repeating: UnsafeMutableBufferPointer(start: nil, count: 0), count: compiled.count)
    }

    deinit {
        for buffer in activations { buffer.deallocate() }
    }

    /// Layer `l`'s output buffer, grown to hold at least `count` values.
    private func activation(_ l: Int, holding count: Int) -> UnsafeMutablePointer<Float> {
        if activations[l].count < count {
            activations[l].deallocate()
            activations[l] = UnsafeMutableBufferPointer.allocate(capacity: count)
            activations[l].initialize(repeating: 0)
        }
        return activations[l].baseAddress!
    }

    public var parameterCount: Int { layout.count }

    /// The initial parameters under the scheme the architecture records (`Initialiser.swift`).
    public func initialParameters(seed: UInt64) -> [Float] {
        Initialiser(architecture.initialisation ?? .he).parameters(for: self, seed: seed)
    }

    /// One number per item: runs every layer over `items` inputs of `itemSize` values each.
    /// The result stays valid until the next call.
    public func forward(_ input: UnsafePointer<Float>, items: Int, parameters: UnsafePointer<Float>) -> [Float] {
        var current = input
        for (l, layer) in layers.enumerated() {
            let output = activation(l, holding: items * layer.outputs)
            run(layer, forwardFrom: current, into: output, items: items, parameters: parameters)
            current = UnsafePointer(output)
        }
        return Array(UnsafeBufferPointer(start: current, count: items))
    }

    private func run(_ layer: Compiled, forwardFrom input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
                     items: Int, parameters: UnsafePointer<Float>) {
        let weight = parameters + layer.weightOffset
        let bias = layer.biasOffset.map { parameters + $0 }
        guard let g = layer.geometry else {
            denseForward(output, input, rows: items, inputs: layer.inputs, units: layer.outputs, weight: weight, bias: bias,
                         activation: layer.activation)
            return
        }
        inChunks(items: items, g) { start, count, columns in
            convForward(output + start * g.outSize, input + start * g.inSize, items: count, g, weight: weight, bias: bias,
                        activation: layer.activation, columns: columns)
        }
    }

    /// Adds the gradient of Σ_items outputGradient[i]·output[i] with respect to the parameters
    /// to `gradients`. Call right after `forward` on the same input.
    public func backward(_ outputGradient: [Float], input: UnsafePointer<Float>, items: Int,
                         parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>) {
        let largest = layers.map { $0.outputs }.max()! * items
        let largestInput = layers.map { $0.inputs }.max()! * items
        if gradientA.count < max(largest, largestInput) { gradientA = [Float](repeating: 0, count: max(largest, largestInput)) }
        if gradientB.count < max(largest, largestInput) { gradientB = [Float](repeating: 0, count: max(largest, largestInput)) }
        gradientA.withUnsafeMutableBufferPointer { a in
            gradientB.withUnsafeMutableBufferPointer { b in
                var dOut = a.baseAddress!, dIn = b.baseAddress!
                dOut.update(from: outputGradient, count: items)
                for l in stride(from: layers.count - 1, through: 0, by: -1) {
                    let layer = layers[l]
                    let layerInput: UnsafePointer<Float> = l == 0 ? input : UnsafePointer(activations[l - 1].baseAddress!)
                    let layerOutput = UnsafePointer(activations[l].baseAddress!)
                    let weight = parameters + layer.weightOffset
                    let weightGradient = gradients + layer.weightOffset
                    let biasGradient = layer.biasOffset.map { gradients + $0 }
                    let inputGradient: UnsafeMutablePointer<Float>? = l == 0 ? nil : dIn
                    if let g = layer.geometry {
                        inChunks(items: items, g) { start, count, columns in
                            convBackward(dOut + start * g.outSize, output: layerOutput + start * g.outSize,
                                         input: layerInput + start * g.inSize, items: count, g, weight: weight,
                                         weightGradient: weightGradient, biasGradient: biasGradient,
                                         inputGradient: inputGradient.map { $0 + start * g.inSize },
                                         activation: layer.activation, columns: columns)
                        }
                    } else {
                        denseBackward(dOut, output: layerOutput, input: layerInput, rows: items, inputs: layer.inputs,
                                      units: layer.outputs, weight: weight, weightGradient: weightGradient,
                                      biasGradient: biasGradient, inputGradient: inputGradient, activation: layer.activation)
                    }
                    swap(&dOut, &dIn)
                }
            }
        }
    }

    /// Runs `body(start, count, im2colBuffer)` over the items in chunks whose im2col matrix
    /// fits the column budget.
    private func inChunks(items: Int, _ g: ConvGeometry, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let chunk = max(1, columnBudget / max(1, g.outHeight * g.outWidth * g.patchLength))
        let needed = min(chunk, items) * g.outHeight * g.outWidth * g.patchLength
        if columns.count < needed { columns = [Float](repeating: 0, count: needed) }
        columns.withUnsafeMutableBufferPointer { cols in
            var start = 0
            while start < items {
                let count = min(chunk, items - start)
                body(start, count, cols.baseAddress!)
                start += count
            }
        }
    }

    /// Multiply-adds of one forward pass of one item (for GFLOP/s figures: ×2 for FLOPs, ×3 with backward).
    public var multiplyAddsPerItem: Int {
        layers.reduce(0) { total, layer in
            if let g = layer.geometry { return total + g.outHeight * g.outWidth * g.patchLength * g.filters }
            return total + layer.inputs * layer.outputs
        }
    }
}

extension Network.Compiled {
    /// Values in the kernel: inputs × units, or k·k·in × filters.
    var weightCount: Int { geometry.map { $0.patchLength * $0.filters } ?? inputs * outputs }
}
