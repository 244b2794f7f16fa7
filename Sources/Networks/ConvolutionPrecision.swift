import CDNNLShim

/// The number format convolution layers compute in (`train --precision`). `fp32`: Float
/// throughout. `bf16`: as PyTorch's CPU autocast does, each convolution reads its inputs
/// (activations, weights, output gradients) rounded to bfloat16 and accumulates in Float; its
/// outputs, the flat parameter buffer, the optimiser, dense layers, model files and checkpoints
/// stay Float. Only a backend and CPU that run bf16 in hardware take it (`ConvolutionBackend.refusal`).
public enum ConvolutionPrecision: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    case fp32, bf16

    public var description: String { rawValue }

    /// The precision a run trains in unless told otherwise, and the one that records written
    /// before `--precision` existed trained in.
    public static let standard = ConvolutionPrecision.fp32

    /// Why this CPU cannot run bf16 convolutions, naming what it lacks; nil when it can.
    /// oneDNN's dispatch level decides (its `avx512_core_bf16` or wider, i.e. the lscpu flags
    /// `avx512_bf16` or `amx_bf16`): below it oneDNN would emulate bf16, slower than fp32.
    public static var bf16HardwareProblem: String? {
        guard sitelens_dnnl_has_bf16() == 0 else { return nil }
        let level = String(cString: sitelens_dnnl_cpu_isa())
        return "--precision bf16 needs a CPU with bf16 instructions (lscpu flag avx512_bf16 or amx_bf16); oneDNN runs this one at "
            + "its '\(level)' level, without them, and SiteLens does not emulate bf16 (slower than fp32)"
            + " (DNNL_MAX_CPU_ISA, when set, caps that level)"
    }
}

extension ConvolutionPrecision {
    /// Why training `model` with `backend` convolutions cannot compute in this precision here,
    /// naming the options; nil when it can. A precision other than fp32 needs convolutions to
    /// apply to, and a backend and CPU that run it.
    public func refusal(model: ModelKind, backend: ConvolutionBackend) -> String? {
        guard self != .fp32 else { return nil }
        guard model.convolves else {
            return "--precision \(self) sets the convolutions' number format, and the \(model) model has none (it trains in fp32); leave --precision at fp32"
        }
        return backend.refusal(of: self)
    }
}

extension ConvolutionBackend {
    /// Why convolutions of this backend cannot compute in `precision` on this machine (the
    /// message names the options); nil when they can. fp32 runs on every backend.
    public func refusal(of precision: ConvolutionPrecision) -> String? {
        engine.refusal(of: precision)
    }
}
