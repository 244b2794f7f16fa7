import Basics
import Foundation
import Testing
@testable import Networks

/// Whether this CPU runs oneDNN's bf16 convolutions in hardware: the bf16 tests need it.
let cpuHasBF16 = ConvolutionPrecision.bf16HardwareProblem == nil

/// `x` rounded to the nearest bfloat16 (ties to even), held in a Float.
func roundedToBF16(_ x: Float) -> Float {
    let bits = x.bitPattern
    return Float(bitPattern: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000)
}

@Suite(.enabled(if: cpuHasBF16, "the CPU has no bf16 instructions (lscpu flags avx512_bf16, amx_bf16): bf16 is refused, not emulated"))
struct BF16ConvolutionTests {
    /// Model shapes: the ryczko entry layer (3×3/2), a 4×4/1 block layer of 64 channels and
    /// the atomic model's 3×3 layer on 17×17 patches.
    func shapes() throws -> [(ConvGeometry, Activation)] {
        let all = try modelConvolutionShapes()
        let wanted: [(ConvGeometry) -> Bool] = [
            { $0.kernel == 3 && $0.stride == 2 && $0.inHeight == 64 },
            { $0.kernel == 4 && $0.stride == 1 && $0.inChannels == 64 && $0.inHeight <= 16 },
            { $0.kernel == 3 && $0.stride == 1 && $0.inHeight == 17 },
        ]
        return wanted.compactMap { test in all.first { test($0.0) } }
    }

    /// bf16 forward and backward agree with fp32 to bf16's precision (relative 1e-2) and differ
    /// from it by more than Float rounding (so bf16 really ran); and they match fp32 run on
    /// inputs rounded to bf16 far more closely than bf16 itself resolves, which is what Float
    /// sums and Float outputs give (outputs rounded to bf16 would be ~1e-3 off).
    @Test func bf16ConvolutionsRoundTheirInputsAndSumInFloat() throws {
        let items = 3
        let shapes = try shapes()
        #expect(shapes.count == 3)
        for (g, activation) in shapes {
            let (parameters, values, input, outputGradient, start) = BackendAgreementTests().randomLayer(g, items: items)
            let name = "\(g.kernel)×\(g.kernel)/\(g.stride) \(g.inHeight)×\(g.inWidth)×\(g.inChannels)→\(g.filters)"
            func run(_ precision: ConvolutionPrecision, _ input: [Float], _ values: [Float], _ outputGradient: [Float],
                     backwardOutput: [Float]? = nil) throws -> (output: [Float], gradients: [Float], inputGradient: [Float]) {
                let kernel = try DNNLConvolution(g, activation: activation, parameters: parameters, precision: precision)
                let run = try runLayer(kernel, input: input, outputGradient: outputGradient, parameters: values, items: items,
                                       startingGradients: start, backwardOutput: backwardOutput)
                return (run.output, zip(run.gradients, start).map { $0 - $1 }, run.inputGradient)
            }
            let fp32 = try run(.fp32, input, values, outputGradient)
            // Backward reads the same (fp32) output, so a ReLU mask is the same in all three.
            let bf16 = try run(.bf16, input, values, outputGradient, backwardOutput: fp32.output)
            let bf16Output = try run(.bf16, input, values, outputGradient).output
            // The bias is added in Float: only the weights are rounded.
            let weightCount = g.patchLength * g.filters
            let roundedValues = values.prefix(weightCount).map(roundedToBF16) + values.dropFirst(weightCount)
            let rounded = try run(.fp32, input.map(roundedToBF16), roundedValues, outputGradient.map(roundedToBF16),
                                  backwardOutput: fp32.output)
            let pairs: [(String, [Float], [Float], [Float])] = [
                ("forward", bf16Output, fp32.output, try run(.fp32, input.map(roundedToBF16), roundedValues, outputGradient).output),
                ("weight gradient", Array(bf16.gradients.prefix(weightCount)), Array(fp32.gradients.prefix(weightCount)),
                 Array(rounded.gradients.prefix(weightCount))),
                ("input gradient", bf16.inputGradient, fp32.inputGradient, rounded.inputGradient),
            ]
            for (pass, ofBF16, ofFP32, ofRounded) in pairs {
                let againstFP32 = relativeDifference(ofBF16, ofFP32)
                #expect(againstFP32 <= 1e-2, "\(name) \(pass): bf16 against fp32 \(againstFP32)")
                #expect(againstFP32 >= 1e-4, "\(name) \(pass): bf16 against fp32 only \(againstFP32): was bf16 used?")
                let againstRounded = relativeDifference(ofBF16, ofRounded)
                #expect(againstRounded <= againstFP32 / 10, "\(name) \(pass): bf16 against fp32 on rounded inputs \(againstRounded)")
            }
        }
    }

    /// A 3×3/2 convolution of a 1×1 image (ryczko's deepest blocks at small grids): eight of its
    /// nine taps meet only padding, and oneDNN 2.6's bf16 weight-gradient kernel left theirs as
    /// whatever its scratch memory held (NaN in the next network of a process). Each fresh
    /// kernel, made after the heap was filled with NaN, must give fp32's gradients to bf16's
    /// precision and the same ones every time.
    @Test func paddingOnlyTapsGetZeroGradientsInEveryKernel() throws {
        let items = 32
        let g = ConvGeometry(inHeight: 1, inWidth: 1, inChannels: 16, kernel: 3, stride: 2, filters: 64)
        let (parameters, values, input, outputGradient, start) = BackendAgreementTests().randomLayer(g, items: items)
        func gradients(_ precision: ConvolutionPrecision) throws -> [Float] {
            let kernel = try DNNLConvolution(g, activation: .relu, parameters: parameters, precision: precision)
            let run = try runLayer(kernel, input: input, outputGradient: outputGradient, parameters: values, items: items, startingGradients: start)
            return zip(run.gradients, start).map { $0 - $1 }
        }
        let fp32 = try gradients(.fp32)
        let first = try gradients(.bf16)
        for round in 1...4 {
            for size in [1 << 12, 1 << 14, 1 << 16, 1 << 18] {
                let garbage = UnsafeMutableBufferPointer<Float>.allocate(capacity: size)
                garbage.initialize(repeating: .nan)
                garbage.deallocate()
            }
            let again = try gradients(.bf16)
            #expect(again.allSatisfy(\.isFinite) && relativeDifference(again, fp32) <= 1e-2, "round \(round): \(relativeDifference(again, fp32))")
            let differing = zip(again, first).filter { $0 != $1 }.count
            #expect(differing == 0, "round \(round): a fresh bf16 kernel gave \(differing) other gradients")
        }
    }

    /// Backward reads forward's bf16 copy of its input only when it is handed the address forward
    /// read: the gradients are then bit-identical to a backward that converts the input itself,
    /// and a backward of another input (at another address) gets that input's gradients.
    @Test func backwardReusesForwardsConvertedInputOnlyAtTheSameAddress() throws {
        let items = 4
        let (g, activation) = try #require(try shapes().first)
        let (parameters, values, input, outputGradient, start) = BackendAgreementTests().randomLayer(g, items: items)
        let other = input.reversed().map { $0 * 0.5 }
        // One output for every backward here, so each reads the same activation mask.
        let mask = try runLayer(try DNNLConvolution(g, activation: activation, parameters: parameters), input: other,
                                outputGradient: outputGradient, parameters: values, items: items, startingGradients: start).output
        /// A fresh bf16 kernel's gradients: forward of `forward`, then backward of `backward` (nil: the same array).
        func gradients(forward: [Float], backward: [Float]? = nil) throws -> [Float] {
            try runLayer(try DNNLConvolution(g, activation: activation, parameters: parameters, precision: .bf16), input: forward,
                         outputGradient: outputGradient, parameters: values, items: items, startingGradients: start,
                         backwardOutput: mask, backwardInput: backward).gradients
        }
        let sameAddress = try gradients(forward: input)
        let converted = try gradients(forward: other, backward: input)
        let differing = zip(sameAddress, converted).filter { $0 != $1 }.count
        #expect(differing == 0, "backward reading forward's copy: \(differing) gradients differ from converting its input")
        let ofOther = try gradients(forward: input, backward: other)
        let expectedOther = try gradients(forward: other)
        let wrong = zip(ofOther, expectedOther).filter { $0 != $1 }.count
        #expect(wrong == 0, "a backward of another input used forward's copy: \(wrong) of \(ofOther.count) gradients differ")
    }

    /// Activations held in bf16 between two bf16 convolutions give the same outputs and
    /// gradients, bit for bit, as Float activations converted before each use: the values are
    /// rounded once either way, and ReLU's derivative reads the same off either.
    @Test func bf16ActivationsBetweenConvolutionsChangeNoBit() throws {
        let architectures: [(Architecture, items: Int)] = [
            (.ryczko(grid: 32, channels: 1, blocks: 2, dense: 16), 5),
            (.atomic(patch: 9, channels: 2, filters: 16, hidden: 8), 11),  // padded to 16 items
            (Architecture(kind: .ryczko, itemHeight: 8, itemWidth: 8, itemChannels: 2,   // an identity activation between
                          layers: [.conv(filters: 16, kernel: 3, stride: 1, activation: .identity, bias: false),
                                   .conv(filters: 16, kernel: 3, stride: 2, activation: .relu, bias: true),
                                   .conv(filters: 8, kernel: 3, stride: 1, activation: .tanh, bias: true),
                                   .conv(filters: 1, kernel: 4, stride: 4, activation: .identity, bias: true)]), 3),
        ]
        for (architecture, items) in architectures {
            let held = try Network(architecture, convolutionBackend: .dnnl, precision: .bf16, bf16Activations: true)
            let converted = try Network(architecture, convolutionBackend: .dnnl, precision: .bf16, bf16Activations: false)
            #expect(held.kernels.contains { $0.formats.output == .bf16 } && converted.kernels.allSatisfy { $0.formats == .float })
            // tanh's derivative needs the Float output: a tanh layer's output stays Float.
            #expect(!held.kernels.contains { $0.activation == .tanh && $0.formats.output == .bf16 })
            var generator = SeededGenerator(seed: 21)
            let input = (0..<(items * architecture.itemSize)).map { _ in Float(generator.uniform(0, 1)) }
            let outputGradient = (0..<items).map { _ in Float(generator.uniform(-1, 1)) }
            let parameters = held.initialParameters(seed: 4)
            func run(_ network: Network) throws -> (outputs: [Float], gradients: [Float]) {
                var gradients = [Float](repeating: 0, count: network.parameterCount)
                let outputs = try network.forward(input, items: items, parameters: parameters)
                try network.backward(outputGradient, input: input, items: items, parameters: parameters, gradients: &gradients)
                return (outputs, gradients)
            }
            let (a, b) = (try run(held), try run(converted))
            #expect(a.outputs == b.outputs, "\(architecture.layers.count) layers: outputs \(a.outputs) against \(b.outputs)")
            let differing = zip(a.gradients, b.gradients).filter { $0.bitPattern != $1.bitPattern }.count
            #expect(differing == 0 && a.gradients.contains { $0 != 0 }, "\(differing) of \(a.gradients.count) gradients differ")
        }
    }

    /// A network made for bf16 keeps the fp32 parameter layout, so files and checkpoints are the same.
    @Test func bf16NetworksKeepTheFloatParameterLayout() throws {
        let architecture = Architecture.ryczko(grid: 16, channels: 1, blocks: ModelOptions().ryczkoBlocks, dense: ModelOptions().ryczkoDense)
        let fp32 = try Network(architecture, convolutionBackend: .dnnl, precision: .fp32)
        let bf16 = try Network(architecture, convolutionBackend: .dnnl, precision: .bf16)
        #expect(fp32.layout == bf16.layout && fp32.parameterCount == bf16.parameterCount)
        #expect(fp32.initialParameters(seed: 3) == bf16.initialParameters(seed: 3))
    }
}

struct PrecisionRefusalTests {
    /// im2col computes in fp32 only, on any CPU: refused by name, both by the backend and when a network is made.
    @Test func im2colRefusesBF16() throws {
        let refusal = try #require(ConvolutionBackend.im2col.refusal(of: .bf16))
        #expect(refusal.contains("--precision bf16") && refusal.contains("--conv-backend im2col"), "\(refusal)")
        #expect(ConvolutionBackend.im2col.refusal(of: .fp32) == nil && ConvolutionBackend.dnnl.refusal(of: .fp32) == nil)
        #expect(throws: NetworkError.self) {
            try Network(.atomic(patch: 9, channels: 2, filters: 4, hidden: 8), convolutionBackend: .im2col, precision: .bf16)
        }
        // oneDNN takes bf16 exactly where the CPU has it.
        #expect((ConvolutionBackend.dnnl.refusal(of: .bf16) == nil) == cpuHasBF16)
    }
}
