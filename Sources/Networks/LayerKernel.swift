/// Where a layer's parameters live in the flat buffer, and the fan-in/out Glorot uses.
struct LayerParameters: Equatable {
    let weights: Range<Int>
    let bias: Range<Int>?
    let fanIn: Int, fanOut: Int
}

/// How the values on one side of a layer are held: the activations there and their gradients.
enum ActivationFormat: Equatable {
    /// Float, what every kernel reads and writes unless the network says otherwise.
    case float
    /// bf16 (one UInt16 each), between two bf16 convolutions of a backend that reads and writes
    /// bf16 itself (`ConvolutionEngine.holdsBF16Activations`): those values would be rounded to
    /// bf16 before use anyway, so holding them so skips a conversion each way and half the bytes.
    case bf16
}

/// A layer's two sides, in `ActivationFormat`s.
struct ActivationFormats: Equatable {
    var input = ActivationFormat.float, output = ActivationFormat.float
    static let float = ActivationFormats()
}

/// One layer's computation and the state it needs (library primitives, scratch memory).
///
/// Tensors are channels-last (NHWC) rows of Float (or of bf16 on a side `formats` says so,
/// behind the same pointer types), `items` of them back to back. Parameters and
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
    /// How its input and output sides are held (Float unless the network asked for bf16).
    var formats: ActivationFormats { get }

    /// Throws when a library fails at run time (oneDNN out of memory, say): the trainer then
    /// ends the job with the message instead of the process dying mid-collective.
    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, items: Int,
                 parameters: UnsafePointer<Float>) throws

    /// `outputGradient` comes in as dL/dOutput and may be overwritten (it becomes dL/dZ, the
    /// gradient before the activation); `output` is what `forward` wrote for the same items, and
    /// `input` what it read: the same values at the same address, so a kernel may use what it
    /// derived from them in forward (oneDNN's bf16 copy) instead of deriving it again.
    func backward(_ outputGradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>,
                  items: Int, parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
                  inputGradient: UnsafeMutablePointer<Float>?) throws
}

extension LayerKernel {
    var formats: ActivationFormats { .float }
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
