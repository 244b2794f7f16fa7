import CBLAS
#if canImport(Glibc)
import Glibc
#endif

// Each layer's forward and backward on OpenBLAS, written out plainly (the kernels in
// LayerKernel.swift call them). Tensors are channels-last (NHWC)
// rows of Float behind raw pointers; matrix products go to CBLAS. Backward *adds* into
// parameter gradients (zeroed once per step) and *writes* the input gradient.

/// out[n, o] = act(Σ_i in[n, i] · W[i, o] + b[o]) for N rows.
func denseForward(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, rows n: Int, inputs: Int, units: Int,
                  weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation) {
    if let bias {
        for r in 0..<n { (output + r * units).update(from: bias, count: units) }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(units), Int32(inputs),
                1, input, Int32(inputs), weight, Int32(units), bias == nil ? 0 : 1, output, Int32(units))
    activate(output, count: n * units, activation)
}

/// Given dOut (overwritten with dOut·act'), adds dW = inᵀ·dZ and db = Σ_rows dZ, and writes
/// dIn = dZ·Wᵀ when `inputGradient` is given.
func denseBackward(_ outputGradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>,
                   rows n: Int, inputs: Int, units: Int, weight: UnsafePointer<Float>,
                   weightGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>?,
                   inputGradient: UnsafeMutablePointer<Float>?, activation: Activation) {
    activationBackward(outputGradient, output: output, count: n * units, activation)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(inputs), Int32(units), Int32(n),
                1, input, Int32(inputs), outputGradient, Int32(units), 1, weightGradient, Int32(units))
    if let biasGradient {
        for r in 0..<n {
            let row = outputGradient + r * units
            for o in 0..<units { biasGradient[o] += row[o] }
        }
    }
    if let inputGradient {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(n), Int32(inputs), Int32(units),
                    1, outputGradient, Int32(units), weight, Int32(units), 0, inputGradient, Int32(inputs))
    }
}

/// Geometry of one convolution with Keras "same" padding: out = ⌈in / stride⌉ and the padding
/// split with the smaller half before.
struct ConvGeometry: Hashable {
    let inHeight: Int, inWidth: Int, inChannels: Int
    let kernel: Int, stride: Int, filters: Int
    var outHeight: Int { (inHeight + stride - 1) / stride }
    var outWidth: Int { (inWidth + stride - 1) / stride }
    var padTop: Int { max((outHeight - 1) * stride + kernel - inHeight, 0) / 2 }
    var padLeft: Int { max((outWidth - 1) * stride + kernel - inWidth, 0) / 2 }
    /// The larger half of the padding goes after (oneDNN takes the two sides separately).
    var padBottom: Int { max((outHeight - 1) * stride + kernel - inHeight, 0) - padTop }
    var padRight: Int { max((outWidth - 1) * stride + kernel - inWidth, 0) - padLeft }
    /// Length of one im2col row: k·k·in.
    var patchLength: Int { kernel * kernel * inChannels }
    var inSize: Int { inHeight * inWidth * inChannels }
    var outSize: Int { outHeight * outWidth * filters }
    var multiplyAddsPerItem: Int { outHeight * outWidth * patchLength * filters }
}

/// Unfolds `items` images into rows of k·k·in values, one row per output pixel (zeros in padding).
func im2col(_ columns: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, items: Int, _ g: ConvGeometry) {
    let rowLength = g.patchLength
    for item in 0..<items {
        let image = input + item * g.inSize
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                var row = columns + ((item * g.outHeight + oy) * g.outWidth + ox) * rowLength
                for ky in 0..<g.kernel {
                    let iy = oy * g.stride - g.padTop + ky
                    for kx in 0..<g.kernel {
                        let ix = ox * g.stride - g.padLeft + kx
                        if iy >= 0 && iy < g.inHeight && ix >= 0 && ix < g.inWidth {
                            row.update(from: image + (iy * g.inWidth + ix) * g.inChannels, count: g.inChannels)
                        } else {
                            row.update(repeating: 0, count: g.inChannels)
                        }
                        row += g.inChannels
                    }
                }
            }
        }
    }
}

/// The adjoint of im2col: adds each row's values back onto the input pixels they came from.
func col2im(_ inputGradient: UnsafeMutablePointer<Float>, _ columns: UnsafePointer<Float>, items: Int, _ g: ConvGeometry) {
    let rowLength = g.patchLength
    for item in 0..<items {
        let image = inputGradient + item * g.inSize
        for oy in 0..<g.outHeight {
            for ox in 0..<g.outWidth {
                var row = columns + ((item * g.outHeight + oy) * g.outWidth + ox) * rowLength
                for ky in 0..<g.kernel {
                    let iy = oy * g.stride - g.padTop + ky
                    for kx in 0..<g.kernel {
                        let ix = ox * g.stride - g.padLeft + kx
                        if iy >= 0 && iy < g.inHeight && ix >= 0 && ix < g.inWidth {
                            let pixel = image + (iy * g.inWidth + ix) * g.inChannels
                            for c in 0..<g.inChannels { pixel[c] += row[c] }
                        }
                        row += g.inChannels
                    }
                }
            }
        }
    }
}

/// Convolution of `items` images: im2col, then one GEMM with the [k·k·in, filters] kernel.
func convForward(_ output: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, items: Int, _ g: ConvGeometry,
                 weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation,
                 columns: UnsafeMutablePointer<Float>) {
    let rows = items * g.outHeight * g.outWidth
    // A 1×1 stride-1 convolution needs no unfolding: the input already is the column matrix.
    let unfolded: UnsafePointer<Float>
    if g.kernel == 1 && g.stride == 1 { unfolded = input } else { im2col(columns, input, items: items, g); unfolded = UnsafePointer(columns) }
    if let bias {
        for r in 0..<rows { (output + r * g.filters).update(from: bias, count: g.filters) }
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(g.filters), Int32(g.patchLength),
                1, unfolded, Int32(g.patchLength), weight, Int32(g.filters), bias == nil ? 0 : 1, output, Int32(g.filters))
    activate(output, count: rows * g.filters, activation)
}

/// Backward of `convForward`: dOut becomes dZ; adds dW = colᵀ·dZ and db; writes dIn via col2im.
func convBackward(_ outputGradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>,
                  items: Int, _ g: ConvGeometry, weight: UnsafePointer<Float>, weightGradient: UnsafeMutablePointer<Float>,
                  biasGradient: UnsafeMutablePointer<Float>?, inputGradient: UnsafeMutablePointer<Float>?,
                  activation: Activation, columns: UnsafeMutablePointer<Float>) {
    let rows = items * g.outHeight * g.outWidth
    activationBackward(outputGradient, output: output, count: rows * g.filters, activation)
    let direct = g.kernel == 1 && g.stride == 1
    let unfolded: UnsafePointer<Float>
    if direct { unfolded = input } else { im2col(columns, input, items: items, g); unfolded = UnsafePointer(columns) }
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(g.patchLength), Int32(g.filters), Int32(rows),
                1, unfolded, Int32(g.patchLength), outputGradient, Int32(g.filters), 1, weightGradient, Int32(g.filters))
    if let biasGradient {
        for r in 0..<rows {
            let row = outputGradient + r * g.filters
            for f in 0..<g.filters { biasGradient[f] += row[f] }
        }
    }
    guard let inputGradient else { return }
    if direct {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(g.patchLength), Int32(g.filters),
                    1, outputGradient, Int32(g.filters), weight, Int32(g.filters), 0, inputGradient, Int32(g.patchLength))
        return
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(g.patchLength), Int32(g.filters),
                1, outputGradient, Int32(g.filters), weight, Int32(g.filters), 0, columns, Int32(g.patchLength))
    inputGradient.update(repeating: 0, count: items * g.inSize)
    col2im(inputGradient, columns, items: items, g)
}

func activate(_ values: UnsafeMutablePointer<Float>, count: Int, _ activation: Activation) {
    switch activation {
    case .identity: break
    case .relu: for i in 0..<count where values[i] < 0 { values[i] = 0 }
    case .tanh: for i in 0..<count { values[i] = tanhf(values[i]) }
    }
}

/// dZ = dY · act'(z), written from the stored output y (ReLU: y > 0; tanh: 1 − y²).
func activationBackward(_ gradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, count: Int, _ activation: Activation) {
    switch activation {
    case .identity: break
    case .relu: reluBackward(gradient, output: output, count: count)
    case .tanh: for i in 0..<count { gradient[i] *= 1 - output[i] * output[i] }
    }
}

/// ReLU's dZ = dY where y > 0, else 0, eight lanes at a time. Written out because the compiler
/// kept the plain loop scalar (it cannot rule out that the two buffers overlap), and the loop was
/// 4–6 % of ryczko's and atomic's training time (`perf`); a select of the same values, so the same bits.
func reluBackward(_ gradient: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, count: Int) {
    typealias Lanes = SIMD8<Float>
    let (gradientRaw, outputRaw) = (UnsafeMutableRawPointer(gradient), UnsafeRawPointer(output))
    var i = 0
    while i + Lanes.scalarCount <= count {
        let offset = i * MemoryLayout<Float>.stride
        let y = outputRaw.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
        var dY = gradientRaw.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
        dY.replace(with: 0, where: y .<= 0)
        gradientRaw.storeBytes(of: dY, toByteOffset: offset, as: Lanes.self)
        i += Lanes.scalarCount
    }
    while i < count {
        if output[i] <= 0 { gradient[i] = 0 }
        i += 1
    }
}

/// The kernel family OpenBLAS chose for this CPU ("Prescott" means its generic, slow kernels).
public func blasCoreName() -> String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name)
}

/// Sets how many threads OpenBLAS and every convolution backend's own pool (oneDNN's) use
/// (one per rank under MPI).
public func setBLASThreads(_ count: Int) {
    openblas_set_num_threads(Int32(clamping: max(1, count)))
    for engine in ConvolutionBackends.registered { engine.setThreads(count) }
}

/// Threads for training `model` with `backend`: `count` for the library doing the heavy
/// work. When a backend with threads of its own (oneDNN) runs a CNN's convolutions, OpenBLAS
/// keeps one thread for the small dense layers: two thread pools busy-waiting on the same cores
/// slow each other down (ryczko G = 64 on two cores: 93 against 50 samples/s, Docs/Benchmarks.md).
public func setThreads(_ count: Int, model: ModelKind, backend: ConvolutionBackend) {
    setBLASThreads(count)
    if model.recipe.convolves && backend.engine.hasOwnThreads { openblas_set_num_threads(1) }
}

/// oneDNN's version and threading runtime, for benchmark output.
public func convolutionLibraryDescription() -> String { DNNLConvolution.libraryDescription }
