import Basics
import Foundation
import Testing
@testable import Networks

/// Every convolution shape of the three models at their default sizes (ryczko at G = 256 and
/// G = 64, one channel; atomic on 17×17 patches of three species), each once.
func modelConvolutionShapes() throws -> [(ConvGeometry, Activation)] {
    let defaults = ModelOptions()
    let architectures: [Architecture] = [256, 64].map {
        .ryczko(grid: $0, channels: 1, blocks: defaults.ryczkoBlocks, dense: defaults.ryczkoDense)
    } + [.atomic(patch: defaults.patchSize, channels: 3, filters: defaults.atomicFilters, hidden: defaults.atomicHidden)]
    var seen = Set<ConvGeometry>()
    var shapes: [(ConvGeometry, Activation)] = []
    for architecture in architectures {
        let network = try Network(architecture, convolutionBackend: .im2col)
        for case let kernel as Im2colConvolution in network.kernels where seen.insert(kernel.geometry).inserted {
            shapes.append((kernel.geometry, kernel.activation))
        }
    }
    return shapes
}

/// ‖a − b‖∞ / ‖b‖∞: the agreement measure for two implementations of the same sums.
func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count)
    let scale = b.map { abs(Double($0)) }.max() ?? 0
    let worst = zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return scale == 0 ? worst : worst / scale
}

/// One layer's forward output, parameter gradients (added onto a non-zero start) and input gradient.
/// Backward sees `backwardOutput` when given: the activation's derivative is read off the output,
/// and a value rounding to either side of a ReLU kink in two backends would flip one mask entry.
/// It reads `backwardInput` (another array, at another address) instead of `input` when given.
func runLayer(_ kernel: any LayerKernel, input: [Float], outputGradient: [Float], parameters: [Float], items: Int,
              startingGradients: [Float], backwardOutput: [Float]? = nil,
              backwardInput: [Float]? = nil) throws -> (output: [Float], gradients: [Float], inputGradient: [Float]) {
    var output = [Float](repeating: .nan, count: items * kernel.outputSize)
    var gradients = startingGradients
    var inputGradient = [Float](repeating: .nan, count: items * kernel.inputSize)
    var dOut = outputGradient
    try input.withUnsafeBufferPointer { x in
        try parameters.withUnsafeBufferPointer { p in
            try output.withUnsafeMutableBufferPointer { y in
                try kernel.forward(x.baseAddress!, into: y.baseAddress!, items: items, parameters: p.baseAddress!)
                if let backwardOutput { _ = y.update(fromContentsOf: backwardOutput) }
                try (backwardInput ?? input).withUnsafeBufferPointer { backwardX in
                    let read = backwardInput == nil ? x.baseAddress! : backwardX.baseAddress!
                    try gradients.withUnsafeMutableBufferPointer { g in
                        try inputGradient.withUnsafeMutableBufferPointer { dx in
                            try dOut.withUnsafeMutableBufferPointer { dy in
                                try kernel.backward(dy.baseAddress!, output: UnsafePointer(y.baseAddress!), input: read, items: items,
                                                parameters: p.baseAddress!, gradients: g.baseAddress!, inputGradient: dx.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
    }
    return (output, gradients, inputGradient)
}

struct BackendAgreementTests {
    @Test func theModelsUseTheExpectedConvolutionShapes() throws {
        let shapes = try modelConvolutionShapes()
        // The 3×3/2 entry, the 4×4/1 block layers and the atomic model's 3×3 layers are all there.
        #expect(shapes.contains { $0.0.kernel == 3 && $0.0.stride == 2 && $0.0.inHeight == 256 })
        #expect(shapes.contains { $0.0.kernel == 4 && $0.0.stride == 1 && $0.0.inChannels == 64 })
        #expect(shapes.contains { $0.0.kernel == 3 && $0.0.stride == 1 && $0.0.inHeight == 17 })
        #expect(shapes.count >= 15)
    }

    /// oneDNN against im2col on random data, batch 3, with the models' activations (ReLU fused
    /// into oneDNN's forward) and a bias: forward outputs, weight and bias gradients added onto
    /// non-zero starting values, and input gradients agree to 1e-5 relative.
    @Test(arguments: [DNNLConvolution.ActivationLayout.nhwc, .blocked])
    func oneDNNAgreesWithIm2colOnEveryModelShape(layout: DNNLConvolution.ActivationLayout) throws {
        let items = 3
        for (g, activation) in try modelConvolutionShapes() {
            let weightCount = g.patchLength * g.filters
            let (parameters, values, input, outputGradient, start) = randomLayer(g, items: items)
            let reference = try runLayer(Im2colConvolution(g, activation: activation, parameters: parameters), input: input,
                                         outputGradient: outputGradient, parameters: values, items: items, startingGradients: start)
            let dnnl = try runLayer(try DNNLConvolution(g, activation: activation, parameters: parameters, layout: layout), input: input,
                                outputGradient: outputGradient, parameters: values, items: items, startingGradients: start,
                                backwardOutput: reference.output)
            let name = "\(layout) \(g.kernel)×\(g.kernel)/\(g.stride) \(g.inHeight)×\(g.inWidth)×\(g.inChannels)→\(g.filters)"
            let forward = try modelForward(g, activation, parameters, values, input, items, layout)
            #expect(relativeDifference(forward, reference.output) <= 1e-5, "\(name) forward")
            let weightGradients = { (r: [Float]) in Array(r[0..<weightCount]) }
            let biasGradients = { (r: [Float]) in Array(r[weightCount...]) }
            // Compare the increments, so a backend that overwrote instead of adding would fail.
            let increment = { (r: [Float]) in zip(r, start).map { $0 - $1 } }
            #expect(relativeDifference(weightGradients(increment(dnnl.gradients)), weightGradients(increment(reference.gradients))) <= 1e-5,
                    "\(name) weight gradient")
            #expect(relativeDifference(biasGradients(increment(dnnl.gradients)), biasGradients(increment(reference.gradients))) <= 1e-5,
                    "\(name) bias gradient")
            #expect(relativeDifference(dnnl.inputGradient, reference.inputGradient) <= 1e-5, "\(name) input gradient")
        }
    }

    /// A convolution layer's parameters (weights, then a bias) with seeded random values
    /// (Glorot-uniform weights), `items` inputs and output gradients in [−1, 1], and starting
    /// gradients that backward must add onto.
    func randomLayer(_ g: ConvGeometry, items: Int)
        -> (parameters: LayerParameters, values: [Float], input: [Float], outputGradient: [Float], start: [Float]) {
        let weightCount = g.patchLength * g.filters
        let parameters = LayerParameters(weights: 0..<weightCount, bias: weightCount..<(weightCount + g.filters),
                                         fanIn: g.patchLength, fanOut: g.kernel * g.kernel * g.filters)
        var generator = SeededGenerator(seed: UInt64(g.inHeight * 1000 + g.inChannels * 10 + g.kernel))
        let limit = (3.0 / Double(g.patchLength)).squareRoot()
        let values = (0..<(weightCount + g.filters)).map { _ in Float(generator.uniform(-limit, limit)) }
        let input = (0..<(items * g.inSize)).map { _ in Float(generator.uniform(-1, 1)) }
        let outputGradient = (0..<(items * g.outSize)).map { _ in Float(generator.uniform(-1, 1)) }
        let start = (0..<values.count).map { _ in Float(generator.uniform(-1, 1)) }
        return (parameters, values, input, outputGradient, start)
    }

    /// oneDNN's forward alone (runLayer's output is overwritten for backward).
    func modelForward(_ g: ConvGeometry, _ activation: Activation, _ parameters: LayerParameters, _ values: [Float],
                      _ input: [Float], _ items: Int, _ layout: DNNLConvolution.ActivationLayout) throws -> [Float] {
        let kernel = try DNNLConvolution(g, activation: activation, parameters: parameters, layout: layout)
        var output = [Float](repeating: .nan, count: items * g.outSize)
        try input.withUnsafeBufferPointer { x in
            try values.withUnsafeBufferPointer { p in
                try output.withUnsafeMutableBufferPointer { try kernel.forward(x.baseAddress!, into: $0.baseAddress!, items: items, parameters: p.baseAddress!) }
            }
        }
        return output
    }

    /// Every registered backend's kernels, as `Network` makes them, against im2col's on random
    /// data, batch 5: the atomic model's shapes (its 3×3 layers on 17×17 patches) and a strided
    /// one with uneven padding, so a new backend is checked by being registered. ReLU backward
    /// reads im2col's output, as in the oneDNN test above.
    @Test(arguments: ConvolutionBackend.allCases)
    func everyRegisteredBackendAgreesWithIm2col(backend: ConvolutionBackend) throws {
        let items = 5
        let strided = ConvGeometry(inHeight: 11, inWidth: 11, inChannels: 3, kernel: 4, stride: 2, filters: 5)
        let shapes = try modelConvolutionShapes().filter { $0.0.inHeight == 17 } + [(strided, Activation.tanh)]
        #expect(shapes.count >= 3)
        for (g, activation) in shapes {
            let (parameters, values, input, outputGradient, start) = randomLayer(g, items: items)
            let reference = try runLayer(Im2colConvolution(g, activation: activation, parameters: parameters), input: input,
                                         outputGradient: outputGradient, parameters: values, items: items, startingGradients: start)
            let kernel = try backend.engine.makeKernel(g, activation: activation, parameters: parameters)
            let forward = try runLayer(kernel, input: input, outputGradient: outputGradient, parameters: values, items: items,
                                       startingGradients: start).output
            let run = try runLayer(kernel, input: input, outputGradient: outputGradient, parameters: values, items: items,
                                   startingGradients: start, backwardOutput: reference.output)
            let name = "\(backend) \(g.kernel)×\(g.kernel)/\(g.stride) \(g.inHeight)×\(g.inWidth)×\(g.inChannels)→\(g.filters)"
            #expect(kernel.inputSize == g.inSize && kernel.outputSize == g.outSize, "\(name) sizes")
            #expect(relativeDifference(forward, reference.output) <= 1e-5, "\(name) forward")
            // The increments, so a backend that overwrote instead of adding would fail.
            let increment = { (r: [Float]) in zip(r, start).map { $0 - $1 } }
            #expect(relativeDifference(increment(run.gradients), increment(reference.gradients)) <= 1e-5, "\(name) parameter gradients")
            #expect(relativeDifference(run.inputGradient, reference.inputGradient) <= 1e-5, "\(name) input gradient")
        }
        // A network pads to the backend's item multiple only when it convolves items whose count
        // varies (atoms), not whole images.
        #expect(try Network(.atomic(patch: 9, channels: 2, filters: 4, hidden: 8), convolutionBackend: backend).itemMultiple
                == backend.engine.itemMultiple)
        #expect(try Network(.sites(features: 3, hidden: 2), convolutionBackend: backend).itemMultiple == 1)
        let images = Architecture.ryczko(grid: 16, channels: 1, blocks: ModelOptions().ryczkoBlocks, dense: ModelOptions().ryczkoDense)
        #expect(try Network(images, convolutionBackend: backend).itemMultiple == 1)
    }

    @Test func registeredBackendsHaveDistinctNamesThatReadBack() {
        let names = ConvolutionBackends.registered.map(\.name)
        #expect(Set(names).count == names.count, "\(names)")
        #expect(ConvolutionBackend.allCases.map(\.rawValue) == names)
        for name in names { #expect(ConvolutionBackend(rawValue: name)?.rawValue == name) }
        #expect(ConvolutionBackend(rawValue: "no-such-backend") == nil)
        #expect(names.contains(ConvolutionBackend.standard.rawValue))
    }

    @Test(arguments: ConvolutionBackend.allCases)
    func wholeNetworksAgreeAcrossBatchSizes(backend: ConvolutionBackend) throws {
        // A batch of 4 gives each item the output it gets alone (primitives per batch size).
        let architecture = Architecture.atomic(patch: 9, channels: 2, filters: 4, hidden: 8)
        let network = try Network(architecture, convolutionBackend: backend)
        let parameters = network.initialParameters(seed: 4)
        var generator = SeededGenerator(seed: 5)
        let input = (0..<(4 * architecture.itemSize)).map { _ in Float(generator.uniform(-1, 1)) }
        let together = try input.withUnsafeBufferPointer { x in
            try parameters.withUnsafeBufferPointer { try network.forward(x.baseAddress!, items: 4, parameters: $0.baseAddress!) }
        }
        for item in 0..<4 {
            let alone = try input.withUnsafeBufferPointer { x in
                try parameters.withUnsafeBufferPointer {
                    try network.forward(x.baseAddress! + item * architecture.itemSize, items: 1, parameters: $0.baseAddress!)
                }
            }
            #expect(abs(alone[0] - together[item]) <= 1e-5 * max(1, abs(together[item])), "\(backend) item \(item)")
        }
    }

    /// oneDNN layers run on a multiple of 8 items, the network padding with zero items: 5 items
    /// must give the outputs and parameter gradients of the same 5 followed by 3 zero items with
    /// zero output gradient, bit for bit (the padded tail of the output gradient is cleared,
    /// whatever the buffers held before).
    @Test func paddingItemsAddNothing() throws {
        let architecture = Architecture.atomic(patch: 9, channels: 2, filters: 4, hidden: 8)
        let network = try Network(architecture, convolutionBackend: .dnnl)
        let reference = try Network(architecture, convolutionBackend: .im2col)
        #expect(network.itemMultiple == 8 && reference.itemMultiple == 1)
        let parameters = network.initialParameters(seed: 4)
        var generator = SeededGenerator(seed: 6)
        let input = (0..<(5 * architecture.itemSize)).map { _ in Float(generator.uniform(-1, 1)) }
        let outputGradient = (0..<5).map { _ in Float(generator.uniform(-1, 1)) }
        func run(_ input: [Float], _ outputGradient: [Float]) throws -> (outputs: [Float], gradients: [Float]) {
            var gradients = [Float](repeating: 0, count: network.parameterCount)
            let outputs = try input.withUnsafeBufferPointer { x in
                try parameters.withUnsafeBufferPointer { p in
                    let outputs = try network.forward(x.baseAddress!, items: outputGradient.count, parameters: p.baseAddress!)
                    try gradients.withUnsafeMutableBufferPointer { g in
                        try network.backward(outputGradient, input: x.baseAddress!, items: outputGradient.count, parameters: p.baseAddress!,
                                             gradients: g.baseAddress!)
                    }
                    return outputs
                }
            }
            return (outputs, gradients)
        }
        // Eight items first, with non-zero gradients everywhere, so stale values would show.
        _ = try run(input + input.prefix(3 * architecture.itemSize), outputGradient + [1, 1, 1])
        let five = try run(input, outputGradient)
        let eight = try run(input + [Float](repeating: 0, count: 3 * architecture.itemSize), outputGradient + [0, 0, 0])
        #expect(five.outputs == Array(eight.outputs.prefix(5)))
        #expect(five.gradients == eight.gradients)
        #expect(five.gradients.contains { $0 != 0 })
    }

    @Test func backwardWithoutAMatchingForwardStops() async throws {
        await #expect(processExitsWith: .failure) {
            let network = try Network(.sites(features: 3, hidden: 2))
            let parameters = network.initialParameters(seed: 1)
            let input = [Float](repeating: 0.5, count: 6)
            var gradients = [Float](repeating: 0, count: parameters.count)
            try input.withUnsafeBufferPointer { x in
                try parameters.withUnsafeBufferPointer { p in
                    _ = try network.forward(x.baseAddress!, items: 2, parameters: p.baseAddress!)
                    try gradients.withUnsafeMutableBufferPointer { g in
                        // Three items after a forward of two: a programming error.
                        try network.backward([1, 1, 1], input: x.baseAddress!, items: 3, parameters: p.baseAddress!, gradients: g.baseAddress!)
                    }
                }
            }
        }
    }
}

struct ConvolutionLibraryTests {
    /// The CI step that builds against oneDNN 3.x sets SITELENS_EXPECT_ONEDNN_MAJOR=3, so a build
    /// that silently picked up the system's 2.x headers or library fails here.
    @Test func theLinkedOneDNNIsTheExpectedOne() throws {
        let description = convolutionLibraryDescription()
        #expect(description.hasPrefix("oneDNN ") && description.contains("threads"), "\(description)")
        if let major = ProcessInfo.processInfo.environment["SITELENS_EXPECT_ONEDNN_MAJOR"] {
            #expect(description.hasPrefix("oneDNN \(major)."), "expected oneDNN \(major).x, linked \(description)")
        }
    }
}
