/// One way of running convolution layers, whole: the name `--conv-backend` takes, a few words
/// for its help, the kernel it makes for one layer, and what it asks of the network (item
/// counts) and of the threads. Each backend is one conforming type in a file of its own
/// (`DNNLConvolution.swift`, `Im2colConvolution.swift`), listed once in
/// `ConvolutionBackends.registered`. A new backend (a GPU library, say): one such file, one
/// line in `registered`; the command line, its help and the tests take it from there.
protocol ConvolutionEngine: Sendable {
    /// The name `--conv-backend` takes and benchmark tables print.
    var name: String { get }
    /// A few words on it, for `--conv-backend`'s help ("oneDNN").
    var summary: String { get }
    /// Its kernels run best on a multiple of this many items (a power of two; the network pads
    /// with zero items to it). 1 unless the kernels prepare work per item count.
    var itemMultiple: Int { get }
    /// Whether its convolutions run on a thread pool of its own rather than OpenBLAS's: then a
    /// model that spends its time in convolutions leaves OpenBLAS one thread (`setThreads`).
    var hasOwnThreads: Bool { get }
    /// Sets its own thread pool's size, if it has one.
    func setThreads(_ count: Int)
    /// Why it cannot compute in `precision` here, naming the options; nil when it can.
    func refusal(of precision: ConvolutionPrecision) -> String?
    /// Whether its bf16 convolutions read and write bf16 activations themselves, so that the
    /// network holds those between two of them in bf16 (`ActivationFormat.bf16`).
    var holdsBF16Activations: Bool { get }
    /// The kernel of one convolution layer computing in `precision`, one `refusal(of:)` accepts
    /// (`Network` checks it, once for every backend), its sides held in `formats` (bf16 only
    /// where `holdsBF16Activations`). Throws when the backend cannot run this shape, so that a
    /// network fails when it is made, not mid-training.
    func makeKernel(_ geometry: ConvGeometry, activation: Activation, parameters: LayerParameters,
                    precision: ConvolutionPrecision, formats: ActivationFormats) throws -> any LayerKernel
}

extension ConvolutionEngine {
    var itemMultiple: Int { 1 }
    var hasOwnThreads: Bool { false }
    func setThreads(_ count: Int) {}
    /// fp32 only, unless the backend says otherwise.
    func refusal(of precision: ConvolutionPrecision) -> String? {
        precision == .fp32 ? nil : "--precision \(precision) runs on the dnnl backend only; --conv-backend \(name) computes in fp32"
    }
    var holdsBF16Activations: Bool { false }
    /// An fp32 kernel.
    func makeKernel(_ geometry: ConvGeometry, activation: Activation, parameters: LayerParameters) throws -> any LayerKernel {
        try makeKernel(geometry, activation: activation, parameters: parameters, precision: .fp32, formats: .float)
    }
}

/// The one list of convolution backends: `--conv-backend` accepts exactly these names, and its
/// help lists them in this order.
enum ConvolutionBackends {
    static let registered: [any ConvolutionEngine] = [DNNLEngine(), Im2colEngine()]
}

/// Which backend runs the convolutions, by its command-line name (one of
/// `ConvolutionBackends.registered`). Plans, options and benchmarks hold this; `Network` asks
/// it for kernels.
public struct ConvolutionBackend: RawRepresentable, Hashable, Codable, Sendable, CaseIterable, CustomStringConvertible {
    let engine: any ConvolutionEngine

    init(_ engine: any ConvolutionEngine) { self.engine = engine }

    /// The registered backend of this name; nil for any other name.
    public init?(rawValue: String) {
        guard let engine = ConvolutionBackends.registered.first(where: { $0.name == rawValue }) else { return nil }
        self.engine = engine
    }

    public var rawValue: String { engine.name }
    public var description: String { engine.name }
    /// A few words on the backend, for help texts.
    public var summary: String { engine.summary }

    public static var allCases: [ConvolutionBackend] { ConvolutionBackends.registered.map(ConvolutionBackend.init) }

    /// The backend a plan or network uses unless told otherwise.
    public static var standard: ConvolutionBackend { .dnnl }

    public static func == (a: ConvolutionBackend, b: ConvolutionBackend) -> Bool { a.rawValue == b.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// "a (its summary), b (its summary) or c (its summary)", for help texts.
    public static var choicesDescription: String {
        let each = allCases.map { "\($0.rawValue) (\($0.summary))" }
        guard let last = each.last, each.count > 1 else { return each.joined() }
        return each.dropLast().joined(separator: ", ") + " or " + last
    }
}
