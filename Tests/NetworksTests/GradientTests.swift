import Basics
import Testing
import TestSupport
@testable import Networks

/// Central finite differences against backward. Float arithmetic, so the stated tolerance is
/// |analytic − numeric| ≤ 2e-2·max(|analytic|, |numeric|) + 2e-3·max(1, |loss|), with step 3e-4:
/// the loss itself is rounded to Float's 6e-8 relative, and dividing by the step turns that into
/// an absolute error on the slope that grows with the loss's size. The step is that small because
/// in the deeper CNN with He weights one weight moves many ReLU units, and at 1e-3 enough of
/// their kinks fall inside the step to bend both one-sided slopes (measured: the central slope
/// went 0.0337, 0.0368, 0.0373, 0.0389 at steps 3e-2 … 1e-3, then 0.0427, 0.0418 at 3e-4 and
/// 1e-4, against backward's 0.0425), not float rounding.
/// Where the two one-sided differences disagree, a step crossed a ReLU kink: the side without
/// one gives the derivative, so the analytic value is compared with the nearer one-sided slope.
/// `breakBackward`, when given, changes the parameters backward sees (a deliberately wrong
/// backward), so the check itself can be shown to fail.
func gradientCheck(_ architecture: Architecture, items: Int, seed: UInt64 = 1, maxParameters: Int = 400,
                   backend: ConvolutionBackend = .dnnl, initialisation: WeightInitialisation = .glorot,
                   breakBackward: ((inout [Float]) -> Void)? = nil) throws -> (worst: Double, checked: Int, kinks: Int) {
    var architecture = architecture
    architecture.initialisation = initialisation
    let network = try Network(architecture, convolutionBackend: backend)
    var generator = SeededGenerator(seed: seed)
    var parameters = network.initialParameters(seed: seed)
    // Non-zero biases so their gradients are exercised away from zero.
    for entry in network.layout.entries where entry.name.hasSuffix("bias") {
        for i in entry.offset..<(entry.offset + entry.count) { parameters[i] = Float(generator.uniform(-0.1, 0.1)) }
    }
    let input = (0..<(items * architecture.itemSize)).map { _ in Float(generator.uniform(-1, 1)) }
    let weights = (0..<items).map { _ in Float(generator.uniform(-1, 1)) }
    func loss(_ p: [Float]) throws -> Double {
        let out = try input.withUnsafeBufferPointer { i in try p.withUnsafeBufferPointer { try network.forward(i.baseAddress!, items: items, parameters: $0.baseAddress!) } }
        return zip(out, weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    _ = try loss(parameters)
    var gradients = [Float](repeating: 0, count: parameters.count)
    var backwardParameters = parameters
    breakBackward?(&backwardParameters)
    try input.withUnsafeBufferPointer { i in
        try backwardParameters.withUnsafeBufferPointer { p in
            try gradients.withUnsafeMutableBufferPointer { g in
                try network.backward(weights, input: i.baseAddress!, items: items, parameters: p.baseAddress!, gradients: g.baseAddress!)
            }
        }
    }
    let stride = max(1, parameters.count / maxParameters)
    var worst = 0.0
    var checked = 0, kinks = 0
    let base = try loss(parameters)
    let absolute = 2e-3 * max(1, abs(base))
    for index in Swift.stride(from: 0, to: parameters.count, by: stride) {
        var plus = parameters, minus = parameters
        let h: Float = 3e-4
        plus[index] += h
        minus[index] -= h
        let (up, down) = (try loss(plus), try loss(minus))
        let forwardSlope = (up - base) / Double(h), backwardSlope = (base - down) / Double(h)
        var numeric = (up - down) / Double(2 * h)
        let analytic = Double(gradients[index])
        if abs(forwardSlope - backwardSlope) > 0.02 * max(abs(forwardSlope), abs(backwardSlope)) + absolute {
            // A ReLU kink lies within one step on one side: the other side's slope is the derivative.
            kinks += 1
            numeric = abs(forwardSlope - analytic) < abs(backwardSlope - analytic) ? forwardSlope : backwardSlope
        }
        let excess = abs(analytic - numeric) - (2e-2 * max(abs(analytic), abs(numeric)) + absolute)
        worst = max(worst, excess)
        checked += 1
    }
    return (worst, checked, kinks)
}

struct GradientTests {
    @Test func denseLayersWithAndWithoutBias() throws {
        for activation in [Activation.identity, .tanh, .relu] {
            let architecture = Architecture(kind: .sites, itemHeight: 1, itemWidth: 1, itemChannels: 5,
                                            layers: [.dense(units: 7, activation: activation, bias: true),
                                                     .dense(units: 1, activation: .identity, bias: false)])
            let result = try gradientCheck(architecture, items: 6)
            #expect(result.worst <= 0, "dense \(activation): worst excess \(result.worst) over \(result.checked) parameters")
            #expect(result.kinks * 4 <= result.checked)
        }
    }

    @Test(arguments: ConvolutionBackend.allCases, [(3, 1), (3, 2), (4, 1), (4, 2), (1, 1), (2, 2)])
    func convolutionsWithSamePadding(backend: ConvolutionBackend, shape: (kernel: Int, stride: Int)) throws {
        let (kernel, stride) = shape
        let architecture = Architecture(kind: .atomic, itemHeight: 7, itemWidth: 6, itemChannels: 2,
                                        layers: [.conv(filters: 3, kernel: kernel, stride: stride, activation: .tanh, bias: true),
                                                 .conv(filters: 2, kernel: 3, stride: 1, activation: .identity, bias: true),
                                                 .flatten, .dense(units: 1, activation: .identity, bias: true)])
        let result = try gradientCheck(architecture, items: 3, backend: backend)
        #expect(result.worst <= 0, "\(backend) conv k\(kernel) s\(stride): worst excess \(result.worst) over \(result.checked)")
        #expect(result.kinks * 4 <= result.checked)
    }

    @Test(arguments: ConvolutionBackend.allCases, WeightInitialisation.allCases)
    func theThreeModels(backend: ConvolutionBackend, initialisation: WeightInitialisation) throws {
        let models: [(String, Architecture)] = [
            ("sites", .sites(features: 13, hidden: 6)),
            ("atomic", .atomic(patch: 9, channels: 3, filters: 4, hidden: 8)),
            ("ryczko", .ryczko(grid: 16, channels: 2, blocks: 2, dense: 32)),
        ]
        for (name, architecture) in models {
            let result = try gradientCheck(architecture, items: name == "sites" ? 10 : 3, backend: backend, initialisation: initialisation)
            #expect(result.worst <= 0, "\(backend) \(initialisation) \(name): worst excess \(result.worst) over \(result.checked) parameters")
            #expect(result.checked > 10 && result.kinks * 4 <= result.checked, "\(name): \(result.kinks) kinks")
        }
    }

    /// The gradient check must be able to fail: a backward that sees other weights than the
    /// forward used (scaled by 1.5) is caught, for a dense model and for a CNN on each backend.
    @Test(arguments: [ConvolutionBackend.dnnl, .im2col])
    func aBrokenBackwardIsCaught(backend: ConvolutionBackend) throws {
        for architecture in [Architecture.sites(features: 4, hidden: 3), .atomic(patch: 9, channels: 2, filters: 3, hidden: 4)] {
            let honest = try gradientCheck(architecture, items: 3, backend: backend)
            let broken = try gradientCheck(architecture, items: 3, backend: backend, breakBackward: { $0 = $0.map { $0 * 1.5 } })
            #expect(honest.worst <= 0, "\(architecture.kind): the honest backward should pass")
            #expect(broken.worst > 0, "\(architecture.kind) on \(backend): the wrong backward passed the check")
        }
    }
}

struct LayerTests {
    /// Keras "same" convolution written as a plain loop in Double.
    func directConvolution(_ input: [Float], h: Int, w: Int, c: Int, kernel k: Int, stride s: Int, filters f: Int,
                           weight: [Float], bias: [Float]) -> [Double] {
        let oh = (h + s - 1) / s, ow = (w + s - 1) / s
        let padTop = max((oh - 1) * s + k - h, 0) / 2, padLeft = max((ow - 1) * s + k - w, 0) / 2
        var out = [Double](repeating: 0, count: oh * ow * f)
        for oy in 0..<oh { for ox in 0..<ow { for o in 0..<f {
            var sum = Double(bias[o])
            for ky in 0..<k { for kx in 0..<k { for ci in 0..<c {
                let iy = oy * s - padTop + ky, ix = ox * s - padLeft + kx
                if iy < 0 || iy >= h || ix < 0 || ix >= w { continue }
                sum += Double(input[(iy * w + ix) * c + ci]) * Double(weight[((ky * k + kx) * c + ci) * f + o])
            } } }
            out[(oy * ow + ox) * f + o] = sum
        } } }
        return out
    }

    @Test(arguments: [(3, 2), (4, 1), (3, 1)])
    func convolutionMatchesTheDirectSum(kernel: Int, stride: Int) throws {
        let architecture = Architecture(kind: .atomic, itemHeight: 8, itemWidth: 8, itemChannels: 3,
                                        layers: [.conv(filters: 4, kernel: kernel, stride: stride, activation: .identity, bias: true)])
        // A lone conv layer does not end in one number, so check the layer function directly.
        _ = architecture
        let g = ConvGeometry(inHeight: 8, inWidth: 8, inChannels: 3, kernel: kernel, stride: stride, filters: 4)
        var generator = SeededGenerator(seed: 9)
        let input = (0..<(2 * g.inSize)).map { _ in Float(generator.uniform(-1, 1)) }
        let weight = (0..<(g.patchLength * 4)).map { _ in Float(generator.uniform(-1, 1)) }
        let bias: [Float] = [0.1, -0.2, 0.3, 0]
        var output = [Float](repeating: 0, count: 2 * g.outSize)
        var columns = [Float](repeating: 0, count: 2 * g.outHeight * g.outWidth * g.patchLength)
        output.withUnsafeMutableBufferPointer { o in
            columns.withUnsafeMutableBufferPointer { c in
                convForward(o.baseAddress!, input, items: 2, g, weight: weight, bias: bias, activation: .identity, columns: c.baseAddress!)
            }
        }
        for item in 0..<2 {
            let reference = directConvolution(Array(input[(item * g.inSize)..<((item + 1) * g.inSize)]), h: 8, w: 8, c: 3,
                                               kernel: kernel, stride: stride, filters: 4, weight: weight, bias: bias)
            let mine = output[(item * g.outSize)..<((item + 1) * g.outSize)]
            let worst = zip(mine, reference).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 1e-5, "item \(item): worst \(worst)")
        }
    }

    @Test func keras_samePaddingSizes() {
        let g = ConvGeometry(inHeight: 256, inWidth: 256, inChannels: 1, kernel: 3, stride: 2, filters: 64)
        #expect(g.outHeight == 128 && g.padTop == 0)  // TF pads 0 before, 1 after here
        let h = ConvGeometry(inHeight: 128, inWidth: 128, inChannels: 64, kernel: 4, stride: 1, filters: 16)
        #expect(h.outHeight == 128 && h.padTop == 1)  // 3 padding rows: 1 before, 2 after
    }

    @Test func theSeedCNNFlattensTwoByTwoBySixtyFour() throws {
        let network = try Network(.ryczko(grid: 256, channels: 1, blocks: 6, dense: 1024))  // the seed's sizes
        let dense = network.layout.entries.first { $0.name.hasSuffix("dense.kernel") }!
        #expect(dense.shape == [2 * 2 * 64, 1024])
        #expect(network.layout.entries.filter { $0.name.hasSuffix("conv.kernel") }.count == 19)
    }

    @Test func glorotInitialisationIsSeededAndBounded() throws {
        let network = try Network(.sites(features: 13, hidden: 6))
        let a = network.initialParameters(seed: 7), b = network.initialParameters(seed: 7), c = network.initialParameters(seed: 8)
        #expect(a == b && a != c)
        let limit = Float((6.0 / 19.0).squareRoot())
        #expect(a[0..<78].allSatisfy { abs($0) <= limit } && a[0..<78].contains { abs($0) > limit / 2 })
        // Platform independence: the first draws are pinned.
        var generator = SeededGenerator(seed: 0)
        #expect(generator.next() == 0xE220A8397B1DCDAF)
    }

    @Test func adamFollowsKerasUpdate() {
        var optimizer = Optimizer(kind: .adam, learningRate: 0.1, parameterCount: 2)
        var parameters: [Float] = [1, -2]
        optimizer.update(&parameters, gradients: [0.5, -4])
        // Step 1: m = 0.1g, v = 0.001g², α = 0.1·√0.001/0.1 → p −= α·m/(√v+ε) ≈ 0.1·sign(g).
        #expect(abs(parameters[0] - 0.9) < 1e-5 && abs(parameters[1] - (-1.9)) < 1e-5)
        optimizer.update(&parameters, gradients: [0.5, -4])
        #expect(abs(parameters[0] - 0.8) < 1e-5)
        var sgd = Optimizer(kind: .sgd, learningRate: 0.1, parameterCount: 2)
        var q: [Float] = [1, 1]
        sgd.update(&q, gradients: [1, -2])
        #expect(q == [0.9, 1.2])
    }

    /// The eight-lane update must give the plain loop's bits (resumed runs and --reproducible
    /// depend on it), over a length that leaves a tail of 3 for the scalar loop.
    @Test func adamsVectorUpdateGivesTheElementLoopsBits() {
        var generator = SeededGenerator(seed: 3)
        let count = 8 * 125 + 3
        let gradients = (0..<count).map { _ in Float(generator.uniform(-2, 2)) }
        var parameters = (0..<count).map { _ in Float(generator.uniform(-1, 1)) }
        var m = (0..<count).map { _ in Float(generator.uniform(-0.1, 0.1)) }
        var v = (0..<count).map { _ in Float(generator.uniform(0, 0.1)) }
        var (p0, m0, v0) = (parameters, m, v)
        let (alpha, b1, b2, eps): (Float, Float, Float, Float) = (0.003, 0.9, 0.999, 1e-7)
        for i in 0..<count {
            m0[i] += (gradients[i] - m0[i]) * (1 - b1)
            v0[i] += (gradients[i] * gradients[i] - v0[i]) * (1 - b2)
            p0[i] -= alpha * m0[i] / (v0[i].squareRoot() + eps)
        }
        adamUpdate(&parameters, m: &m, v: &v, gradients: gradients, alpha: alpha, beta1: b1, beta2: b2, epsilon: eps)
        #expect(parameters == p0 && m == m0 && v == v0)
    }

    /// ReLU's eight-lane backward against the element rule, over zeros, negative zeros, NaN
    /// and a tail of 5.
    @Test func reluBackwardKeepsTheGradientExactlyWhereTheOutputIsPositive() {
        var generator = SeededGenerator(seed: 4)
        let count = 8 * 5 + 5
        var output = (0..<count).map { _ in Float(generator.uniform(-1, 1)) }
        (output[3], output[9], output[17], output[count - 1]) = (0, -0.0, .nan, 0)
        let gradient = (0..<count).map { _ in Float(generator.uniform(-3, 3)) }
        var result = gradient
        result.withUnsafeMutableBufferPointer { g in output.withUnsafeBufferPointer { reluBackward(g.baseAddress!, output: $0.baseAddress!, count: count) } }
        let expected = zip(output, gradient).map { $0 <= 0 ? 0 : $1 }
        #expect(result == expected)
        #expect(result.contains(0) && result.contains { $0 != 0 })
    }
}
