/// Which library runs the convolutions: oneDNN (the default) or im2col with OpenBLAS GEMMs
/// (the plain reference implementation the tests compare against).
public enum ConvolutionBackend: String, Codable, Sendable, CaseIterable {
    case dnnl, im2col
}

/// Where a layer's parameters live in the flat buffer, and the fan-in/out Glorot uses.
struct LayerParameters: Equatable {
    let weights: Range<Int>
    let bias: Range<Int>?
    let fanIn: Int, fanOut: Int
}

/// One layer's computation and the state it needs (library primitives, scratch memory).
///
/// Tensors are channels-last (NHWC) rows of Float, `items` of them back to back. Parameters and
/// gradients are the network's one flat buffer each (llm.c's shape): a kernel reads its own
/// ranges of them, ADDS into its parameter gradients and WRITES its input gradient.
protocol LayerKernel: AnyObject {
    /// Values per item going in and coming out.
    var inputSize: Int { get }
    var outputSize: Int { get }
    var parameters: LayerParameters { get }
    /// The activation applied to the output (initialisers choose weight scales by it).
    var activation: Activation { get }
    /// Multiply-adds of one item's forward pass.
    var multiplyAddsPerItem: Int { get }
    /// The kernel runs best on a multiple of this many items (a power of two; the network pads
    /// with zero items to it). 1 unless the kernel prepares work per item count.
    var itemMultiple: Int { get }

    /// Throws when a library fails at run time (oneDNN out of memory, say): the trainer then
    /// ends the job with the message instead of the process dying mid-collective.
    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, items: Int,
                 parameters: UnsafePointer<Float>) throws

    /// `outputGradient` comes in as dL/dOutput and may be overwritten (it becomes dL/dZ, the
    /// gradient before the activation); `output` is what `forward` wrote for the same items.
    func backward(_ outputGradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>,
                  items: Int, parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?) throws
}

extension LayerKernel {
    var itemMultiple: Int { 1 }
}

/// Dense layers on OpenBLAS: one GEMM per pass over all items.
final class DenseKernel: LayerKernel {
    let inputSize: Int, outputSize: Int
    let parameters: LayerParameters
    let activation: Activation

    init(inputs: Int, units: Int, activation: Activation, parameters: LayerParameters) {
        (inputSize, outputSize, self.activation, self.parameters) = (inputs, units, activation, parameters)
    }

    var multiplyAddsPerItem: Int { inputSize * outputSize }

    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, items: Int,
                 parameters p: UnsafePointer<Float>) {
        denseForward(output, input, rows: items, inputs: inputSize, units: outputSize, weight: p + parameters.weights.lowerBound,
                     bias: parameters.bias.map { p + $0.lowerBound }, activation: activation)
    }

    func backward(_ outputGradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>,
                  items: Int, parameters p: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?) {
        denseBackward(outputGradient, output: output, input: input, rows: items, inputs: inputSize, units: outputSize,
                      weight: p + parameters.weights.lowerBound, weightGradient: gradients + parameters.weights.lowerBound,
                      biasGradient: parameters.bias.map { gradients + $0.lowerBound }, inputGradient: inputGradient,
                      activation: activation)
    }
}

/// Convolutions by im2col and OpenBLAS GEMMs, over items in chunks whose column matrix fits a
/// budget. The reference implementation: plain, and checked against a direct sum in the tests.
final class Im2colConvolution: LayerKernel {
    let geometry: ConvGeometry
    let parameters: LayerParameters
    let activation: Activation
    private var columns: [Float] = []
    /// Most im2col values held at once.
    private let columnBudget = 1 << 23

    init(_ geometry: ConvGeometry, activation: Activation, parameters: LayerParameters) {
        (self.geometry, self.activation, self.parameters) = (geometry, activation, parameters)
    }

    var inputSize: Int { geometry.inSize }
    var outputSize: Int { geometry.outSize }
    var multiplyAddsPerItem: Int { geometry.multiplyAddsPerItem }

    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, items: Int,
                 parameters p: UnsafePointer<Float>) {
        let g = geometry
        inChunks(items: items) { start, count, columns in
            convForward(output + start * g.outSize, input + start * g.inSize, items: count, g,
                        weight: p + parameters.weights.lowerBound, bias: parameters.bias.map { p + $0.lowerBound },
                        activation: activation, columns: columns)
        }
    }

    func backward(_ outputGradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>,
                  items: Int, parameters p: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?) {
        let g = geometry
        inChunks(items: items) { start, count, columns in
            convBackward(outputGradient + start * g.outSize, output: output + start * g.outSize,
                         input: input + start * g.inSize, items: count, g, weight: p + parameters.weights.lowerBound,
                         weightGradient: gradients + parameters.weights.lowerBound,
                         biasGradient: parameters.bias.map { gradients + $0.lowerBound },
                         inputGradient: inputGradient.map { $0 + start * g.inSize },
                         activation: activation, columns: columns)
        }
    }

    /// Runs `body(start, count, im2colBuffer)` over the items in chunks that fit the budget.
    private func inChunks(items: Int, _ body: (Int, Int, UnsafeMutablePointer<Float>) -> Void) {
        let g = geometry
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
}
