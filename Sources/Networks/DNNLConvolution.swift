import CDNNLShim

/// The oneDNN backend (`--conv-backend dnnl`, the default): `DNNLConvolution` kernels.
struct DNNLEngine: ConvolutionEngine {
    var name: String { "dnnl" }
    var summary: String { "oneDNN" }
    /// oneDNN makes primitives per item count; counts that vary (atoms) would otherwise bring
    /// new ones nearly every call (`DNNLConvolution.primitives`).
    var itemMultiple: Int { 8 }
    /// oneDNN runs on its own OpenMP threads.
    var hasOwnThreads: Bool { true }
    func setThreads(_ count: Int) { DNNLConvolution.setThreads(count) }

    func refusal(of precision: ConvolutionPrecision) -> String? {
        precision == .bf16 ? ConvolutionPrecision.bf16HardwareProblem : nil
    }
    /// oneDNN's bf16 primitives read and write bf16 NHWC activations directly.
    var holdsBF16Activations: Bool { true }

    func makeKernel(_ geometry: ConvGeometry, activation: Activation, parameters: LayerParameters,
                    precision: ConvolutionPrecision, formats: ActivationFormats) throws -> any LayerKernel {
        try DNNLConvolution(geometry, activation: activation, parameters: parameters, precision: precision, formats: formats)
    }
}

extension ConvolutionBackend {
    /// oneDNN.
    public static let dnnl = ConvolutionBackend(DNNLEngine())
}

/// Convolutions by oneDNN (through the CDNNLShim C target). Primitives are created once per
/// batch size and reused; oneDNN picks its own (blocked) weight layout, and the shim reorders
/// weights into it only when their values changed since the last call (once a step in training).
final class DNNLConvolution: LayerKernel {
    let geometry: ConvGeometry
    let parameters: LayerParameters
    let activation: Activation
    /// Primitives per batch size, most recently used last. Sizes vary (the atomic model's items
    /// are atoms: a training chunk holds a step's, evaluation one structure's), so a bounded few
    /// are kept, and the network pads item counts to `DNNLEngine.itemMultiple`: with 6 sets and unpadded
    /// counts, nearly every atomic training step made new ones (Benchmarks.md).
    private var primitives: [(items: Int, conv: OpaquePointer)] = []
    private let primitivesKept = 16

    /// How oneDNN holds activations: in its own blocked layout, reordered from and to NHWC
    /// around every primitive, or NHWC throughout. NHWC is the default: with one layer per
    /// kernel the reorders cost more than blocking saves (ryczko G = 64 on two cores: 58
    /// against 13 samples/s, Docs/Benchmarks.md).
    enum ActivationLayout { case nhwc, blocked }
    let layout: ActivationLayout
    /// bf16: the shim hands oneDNN bf16 copies of the Float inputs and gets Float outputs back,
    /// except on a side held in bf16 (`formats`), which oneDNN reads and writes as it is.
    let precision: ConvolutionPrecision
    let formats: ActivationFormats

    /// Creates the primitives for one item at once, so an unsupported shape fails here, not mid-training.
    init(_ geometry: ConvGeometry, activation: Activation, parameters: LayerParameters, layout: ActivationLayout = .nhwc,
         precision: ConvolutionPrecision = .fp32, formats: ActivationFormats = .float) throws {
        (self.geometry, self.activation, self.parameters, self.layout) = (geometry, activation, parameters, layout)
        (self.precision, self.formats) = (precision, formats)
        primitives.append((1, try makePrimitives(items: 1)))
    }

    deinit {
        for entry in primitives { sitelens_conv_destroy(entry.conv) }
    }

    var inputSize: Int { geometry.inSize }
    var outputSize: Int { geometry.outSize }
    var multiplyAddsPerItem: Int { geometry.multiplyAddsPerItem }

    /// The library's version and threading runtime, e.g. "oneDNN 2.6.3 (OpenMP threads)".
    static var libraryDescription: String { String(cString: sitelens_dnnl_description()) }

    /// Sets oneDNN's threads (its OpenMP runtime's); false when it does not use OpenMP.
    @discardableResult
    static func setThreads(_ count: Int) -> Bool { sitelens_dnnl_set_threads(Int32(clamping: count)) != 0 }

    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, items: Int,
                 parameters p: UnsafePointer<Float>) throws {
        let bias = parameters.bias.map { p + $0.lowerBound }
        let status = sitelens_conv_forward(try conv(items: items), input, p + parameters.weights.lowerBound, bias, output)
        try check(status, "forward", items: items)
    }

    func backward(_ outputGradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>,
                  items: Int, parameters p: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?) throws {
        // The activation was fused into forward; its derivative is applied here on NHWC values
        // (ReLU's or none on a bf16 output: the shim refuses others there).
        let count = items * outputSize
        if formats.output == .bf16 {
            if activation == .relu {
                UnsafeMutableRawPointer(outputGradient).withMemoryRebound(to: UInt16.self, capacity: count) { gradient in
                    UnsafeRawPointer(output).withMemoryRebound(to: UInt16.self, capacity: count) {
                        sitelens_bf16_relu_backward(gradient, $0, count)
                    }
                }
            }
        } else {
            activationBackward(outputGradient, output: output, count: count, activation)
        }
        let status = sitelens_conv_backward(try conv(items: items), input, outputGradient, p + parameters.weights.lowerBound,
                                            gradients + parameters.weights.lowerBound,
                                            parameters.bias.map { gradients + $0.lowerBound }, inputGradient)
        try check(status, "backward", items: items)
    }

    /// A failure after the primitives were created is a fault in the library or the machine
    /// (memory, most likely): an error the caller passes on, so the job ends with its message.
    private func check(_ status: Int32, _ pass: String, items: Int) throws {
        guard status == 0 else {
            let g = geometry
            throw NetworkError("oneDNN \(g.kernel)×\(g.kernel)/\(g.stride) convolution \(pass) of \(items) items failed: "
                               + String(cString: sitelens_dnnl_last_error()))
        }
    }

    private func conv(items: Int) throws -> OpaquePointer {
        if let index = primitives.firstIndex(where: { $0.items == items }) {
            let entry = primitives.remove(at: index)
            primitives.append(entry)
            return entry.conv
        }
        let conv = try makePrimitives(items: items)
        if primitives.count >= primitivesKept { sitelens_conv_destroy(primitives.removeFirst().conv) }
        primitives.append((items, conv))
        return conv
    }

    private func makePrimitives(items: Int) throws -> OpaquePointer {
        let g = geometry
        // oneDNN's shape fields are 32-bit; a batch or layer beyond that is refused, not wrapped.
        func dimension(_ value: Int, _ name: String) throws -> Int32 {
            guard let narrow = Int32(exactly: value) else {
                throw NetworkError("oneDNN convolution: \(name) \(value) exceeds the library's 32-bit limit")
            }
            return narrow
        }
        var shape = sitelens_conv_shape()
        shape.batch = try dimension(items, "batch of items")
        (shape.in_height, shape.in_width, shape.in_channels) =
            (try dimension(g.inHeight, "input height"), try dimension(g.inWidth, "input width"), try dimension(g.inChannels, "input channels"))
        (shape.out_height, shape.out_width, shape.out_channels) =
            (try dimension(g.outHeight, "output height"), try dimension(g.outWidth, "output width"), try dimension(g.filters, "filters"))
        (shape.kernel, shape.stride) = (try dimension(g.kernel, "kernel"), try dimension(g.stride, "stride"))
        (shape.pad_top, shape.pad_left) = (try dimension(g.padTop, "padding"), try dimension(g.padLeft, "padding"))
        (shape.pad_bottom, shape.pad_right) = (try dimension(g.padBottom, "padding"), try dimension(g.padRight, "padding"))
        shape.activation = switch activation { case .identity: 0; case .relu: 1; case .tanh: 2 }
        shape.has_bias = parameters.bias == nil ? 0 : 1
        shape.blocked_activations = layout == .blocked ? 1 : 0
        shape.bf16 = precision == .bf16 ? 1 : 0
        (shape.src_bf16, shape.dst_bf16) = (formats.input == .bf16 ? 1 : 0, formats.output == .bf16 ? 1 : 0)
        var message = [CChar](repeating: 0, count: 512)
        guard let conv = sitelens_conv_create(&shape, &message, message.count) else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw NetworkError("oneDNN cannot run a \(g.kernel)×\(g.kernel)/\(g.stride) \(precision) convolution of \(items) items: \(text)")
        }
        return conv
    }
}
