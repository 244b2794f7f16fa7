#if canImport(Glibc)
import Glibc
#endif

/// How parameters move each step; both act on the whole flat buffer in one loop.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case adam, sgd

    /// The names of the state buffers this kind keeps besides the step count, each one Float
    /// per parameter: the order in which checkpoints store them, broadcasts send them and
    /// `Optimizer.stateBuffers` lists them, and the field names errors about them give.
    public var stateBufferNames: [String] {
        switch self {
        case .adam: ["adam.m", "adam.v"]
        case .sgd: []
        }
    }
}

/// Adam with Keras's defaults (lr 1e-3, β1 0.9, β2 0.999, ε 1e-7) and Keras's update:
/// α = lr·√(1−β2ᵗ)/(1−β1ᵗ), m += (g−m)(1−β1), v += (g²−v)(1−β2), p −= α·m/(√v + ε).
/// Plain SGD is p −= lr·g. m and v share the parameter buffer's layout.
public struct Optimizer: Codable, Sendable, Equatable {
    public var kind: OptimizerKind
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-7
    /// Steps taken so far.
    public var step: Int = 0
    public var m: [Float]
    public var v: [Float]

    public init(kind: OptimizerKind = .adam, learningRate: Float = 1e-3, parameterCount: Int) {
        self.kind = kind
        self.learningRate = learningRate
        self.m = kind == .adam ? [Float](repeating: 0, count: parameterCount) : []
        self.v = kind == .adam ? [Float](repeating: 0, count: parameterCount) : []
    }

    /// The state buffers in `kind.stateBufferNames` order (fresh ones are zeros, one per
    /// parameter). Set them from such a list, each as long as the parameters.
    public var stateBuffers: [[Float]] {
        get {
            switch kind {
            case .adam: [m, v]
            case .sgd: []
            }
        }
        set {
            precondition(newValue.count == kind.stateBufferNames.count, "\(kind) keeps \(kind.stateBufferNames.count) state buffers, not \(newValue.count)")
            if kind == .adam { (m, v) = (newValue[0], newValue[1]) }
        }
    }

    /// The first state value no run of this optimiser can produce, by buffer name and index,
    /// and why (checkpoints refuse such state); nil when all can be. Finiteness is the caller's.
    public var impossibleState: (buffer: String, index: Int, problem: String)? {
        guard kind == .adam, let bad = v.firstIndex(where: { $0 < 0 }) else { return nil }
        return ("adam.v", bad, "value \(bad) is \(v[bad]); squared-gradient averages are never negative")
    }

    /// One update of every parameter from its gradient.
    public mutating func update(_ parameters: inout [Float], gradients: [Float]) {
        step += 1
        switch kind {
        case .sgd:
            for i in parameters.indices { parameters[i] -= learningRate * gradients[i] }
        case .adam:
            let t = Float(step)
            let alpha = learningRate * (1 - powf(beta2, t)).squareRoot() / (1 - powf(beta1, t))
            adamUpdate(&parameters, m: &m, v: &v, gradients: gradients, alpha: alpha, beta1: beta1, beta2: beta2, epsilon: epsilon)
        }
    }
}

/// Adam's update of every element, eight at a time: the same IEEE operations in the same order
/// as one element at a time (so the same bits), but vector loads and stores. Written out
/// because the compiler did not vectorise the plain loop (it cannot rule out that the four
/// buffers overlap): 1.7x faster, and every rank runs it in full each step (Benchmarks.md).
func adamUpdate(_ parameters: inout [Float], m: inout [Float], v: inout [Float], gradients: [Float],
                alpha: Float, beta1: Float, beta2: Float, epsilon: Float) {
    precondition(m.count == parameters.count && v.count == parameters.count && gradients.count == parameters.count)
    let (c1, c2) = (1 - beta1, 1 - beta2)
    parameters.withUnsafeMutableBufferPointer { p in
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                gradients.withUnsafeBufferPointer { g in
                    var i = 0
                    if let pBase = p.baseAddress, let mBase = m.baseAddress, let vBase = v.baseAddress, let gBase = g.baseAddress {
                        let (pRaw, mRaw, vRaw, gRaw) = (UnsafeMutableRawPointer(pBase), UnsafeMutableRawPointer(mBase),
                                                        UnsafeMutableRawPointer(vBase), UnsafeRawPointer(gBase))
                        typealias Lanes = SIMD8<Float>
                        while i + Lanes.scalarCount <= p.count {
                            let offset = i * MemoryLayout<Float>.stride
                            let gi = gRaw.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                            var mi = mRaw.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                            var vi = vRaw.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                            var pi = pRaw.loadUnaligned(fromByteOffset: offset, as: Lanes.self)
                            mi += (gi - mi) * c1
                            vi += (gi * gi - vi) * c2
                            pi -= alpha * mi / (vi.squareRoot() + epsilon)
                            mRaw.storeBytes(of: mi, toByteOffset: offset, as: Lanes.self)
                            vRaw.storeBytes(of: vi, toByteOffset: offset, as: Lanes.self)
                            pRaw.storeBytes(of: pi, toByteOffset: offset, as: Lanes.self)
                            i += Lanes.scalarCount
                        }
                    }
                    while i < p.count {
                        m[i] += (g[i] - m[i]) * c1
                        v[i] += (g[i] * g[i] - v[i]) * c2
                        p[i] -= alpha * m[i] / (v[i].squareRoot() + epsilon)
                        i += 1
                    }
                }
            }
        }
    }
}

/// Sums of squared and of absolute errors (for metrics; no gradient).
public func errorSums(predictions: [Float], targets: [Float]) -> (sumSquared: Double, sumAbsolute: Double) {
    var sumSquared = 0.0, sumAbsolute = 0.0
    for (prediction, target) in zip(predictions, targets) {
        let error = Double(prediction - target)
        sumSquared += error * error
        sumAbsolute += abs(error)
    }
    return (sumSquared, sumAbsolute)
}

/// Mean squared error of a batch and its gradient: dL/dpred = 2(pred − target)/denominator.
/// Under data parallelism each rank passes the global batch size as `denominator`, so the
/// summed gradients are those of the global batch mean.
public func squaredErrorGradient(predictions: [Float], targets: [Float], denominator: Int) -> (sumSquared: Double, sumAbsolute: Double, gradient: [Float]) {
    let sums = errorSums(predictions: predictions, targets: targets)
    let gradient = zip(predictions, targets).map { 2 * ($0 - $1) / Float(denominator) }
    return (sums.sumSquared, sums.sumAbsolute, gradient)
}
