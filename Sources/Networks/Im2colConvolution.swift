/// The im2col backend (`--conv-backend im2col`): `Im2colConvolution` kernels on OpenBLAS, the
/// plain reference the tests compare every other backend against.
struct Im2colEngine: ConvolutionEngine {
    var name: String { "im2col" }
    var summary: String { "OpenBLAS GEMMs, the reference" }

    func makeKernel(_ geometry: ConvGeometry, activation: Activation, parameters: LayerParameters,
                    precision: ConvolutionPrecision, formats: ActivationFormats) throws -> any LayerKernel {
        precondition(formats == .float, "im2col holds no bf16 activations")
        return Im2colConvolution(geometry, activation: activation, parameters: parameters)
    }
}

extension ConvolutionBackend {
    /// im2col with OpenBLAS GEMMs.
    public static let im2col = ConvolutionBackend(Im2colEngine())
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
