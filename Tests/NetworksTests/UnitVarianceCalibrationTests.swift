import Images
import Structures
import Testing
@testable import Networks

/// `--init lsuv` on the seed's six-block CNN at grid 32 over Lennard-Jones clusters, the case
/// in which He's signal dies (Docs/Method.md, "Members that did not learn").
struct UnitVarianceCalibrationTests {
    /// 60 clusters as 32² images over 10 Å, the first 32 the calibration batch.
    static func sixBlockSetting() throws -> (architecture: Architecture, images: [Float], batch: [Float]) {
        let clusters = LennardJonesClusters.generate(count: 60, seed: 3)
        var options = ModelOptions()
        options.raster = RasterSettings(gridSize: 32, extent: 10)
        options.ryczkoBlocks = 6
        options.ryczkoDense = 256
        let (architecture, encoding) = try makeModel(.ryczko, for: clusters, options: options)
        let encoder = try SampleEncoder(encoding)
        let images = try clusters.flatMap { try encoder.encode($0).values }
        return (architecture, images, Array(images[..<(32 * architecture.itemSize)]))
    }

    /// Each computing layer's pre-activation on `input`, measured through the network as training
    /// runs it (default backend): the previous layer's stored output through the layer without
    /// its activation.
    static func preActivations(_ architecture: Architecture, parameters: [Float], input: [Float], items: Int) throws -> [[Float]] {
        let network = try Network(architecture)
        var linear = architecture
        linear.layers = architecture.layers.map(\.withoutActivation)
        let twin = try Network(linear)
        _ = try input.withUnsafeBufferPointer { x in
            try parameters.withUnsafeBufferPointer { try network.forward(x.baseAddress!, items: items, parameters: $0.baseAddress!) }
        }
        return try twin.kernels.indices.map { l in
            let layerInput = l == 0 ? input : network.output(ofLayer: l - 1, items: items)
            var z = [Float](repeating: 0, count: items * twin.kernels[l].outputSize)
            try layerInput.withUnsafeBufferPointer { x in
                try parameters.withUnsafeBufferPointer { p in
                    try z.withUnsafeMutableBufferPointer { try twin.kernels[l].forward(x.baseAddress!, into: $0.baseAddress!, items: items, parameters: p.baseAddress!) }
                }
            }
            return z
        }
    }

    static func standardDeviation(_ values: [Float]) -> Double {
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        return (values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count)).squareRoot()
    }

    static func outputs(_ architecture: Architecture, parameters: [Float], images: [Float]) throws -> [Float] {
        let network = try Network(architecture)
        return try images.withUnsafeBufferPointer { x in
            try parameters.withUnsafeBufferPointer { try network.forward(x.baseAddress!, items: images.count / architecture.itemSize, parameters: $0.baseAddress!) }
        }
    }

    /// After calibration every hidden layer's pre-activation on the batch has variance 1 and the
    /// output standard deviation `outputStandardDeviation` about mean 0, where He's shrink layer
    /// by layer to almost nothing.
    @Test func everyLayerHasUnitVariancePreActivationOnTheBatch() throws {
        var (architecture, _, batch) = try Self.sixBlockSetting()
        architecture.initialisation = .lsuv
        let network = try Network(architecture)
        let he = network.initialParameters(seed: 5)
        var calibrated = he
        let factors = try UnitVarianceCalibration.calibrate(&calibrated, architecture: architecture, input: batch, items: 32)
        #expect(factors.count == network.kernels.count && factors.contains { $0 > 2 }, "\(factors)")
        let measured = try Self.preActivations(architecture, parameters: calibrated, input: batch, items: 32)
        for (l, z) in measured.enumerated() {
            let std = Self.standardDeviation(z)
            let wanted = l == measured.count - 1 ? UnitVarianceCalibration.outputStandardDeviation : 1
            #expect(abs(std / wanted - 1) < 0.01, "layer \(l): pre-activation std \(std), wanted \(wanted)")
        }
        let output = measured[measured.count - 1]
        #expect(abs(output.reduce(0, +) / Float(output.count)) < 1e-4, "the untrained network predicts the batch's mean target (0)")
        let heLayers = try Self.preActivations(architecture, parameters: he, input: batch, items: 32)
        #expect(Self.standardDeviation(heLayers[heLayers.count - 2]) < 0.01, "He's last hidden layer should carry almost nothing")
    }

    /// A ReLU layer dead on the batch (every pre-activation negative: positive inputs, negative
    /// weights) cannot be revived by a factor; its channels are centred instead.
    @Test func aLayerDeadOnTheBatchIsCentred() throws {
        let architecture = Architecture(kind: .sites, itemHeight: 1, itemWidth: 1, itemChannels: 3,
                                        layers: [.dense(units: 4, activation: .relu, bias: true), .dense(units: 1, activation: .identity, bias: true)])
        let network = try Network(architecture)
        var parameters = network.initialParameters(seed: 2)
        for i in network.kernels[0].parameters.weights { parameters[i] = -abs(parameters[i]) - 0.01 }
        let input: [Float] = (0..<30).map { Float($0 % 7) * 0.3 + 0.1 }
        let dead = try Self.preActivations(architecture, parameters: parameters, input: input, items: 10)[0]
        #expect(dead.allSatisfy { $0 < 0 })
        try UnitVarianceCalibration.calibrate(&parameters, architecture: architecture, input: input, items: 10)
        let revived = try Self.preActivations(architecture, parameters: parameters, input: input, items: 10)
        #expect(revived[0].contains { $0 > 0 } && abs(Self.standardDeviation(revived[0]) - 1) < 0.01, "\(revived[0])")
        #expect(Self.standardDeviation(revived[1]) > 0.05, "the output varies once the layer lives")
    }

    /// The cause of the dead members as a test: at six blocks on a 32² grid He's output is the
    /// same for every cluster (to 10⁻⁶ of the targets' spread); calibrated, it varies by about `outputStandardDeviation` (0.1 of the targets'
    /// spread) over clusters it was not calibrated on too.
    @Test func sixBlocksAtGrid32HaveAConstantOutputUnderHeAndAVaryingOneCalibrated() throws {
        var (architecture, images, batch) = try Self.sixBlockSetting()
        architecture.initialisation = .lsuv
        for seed: UInt64 in [1, 2, 3] {
            let he = try Network(architecture).initialParameters(seed: seed)
            var calibrated = he
            try UnitVarianceCalibration.calibrate(&calibrated, architecture: architecture, input: batch, items: 32)
            let heStd = Self.standardDeviation(try Self.outputs(architecture, parameters: he, images: images))
            let calibratedStd = Self.standardDeviation(try Self.outputs(architecture, parameters: calibrated, images: images))
            // Normalised targets vary by 1: a spread of 10⁻⁵ is nothing a gradient can use.
            #expect(heStd < 1e-5, "seed \(seed): He's output std over 60 clusters \(heStd)")
            #expect(calibratedStd > 0.05, "seed \(seed): calibrated output std \(calibratedStd)")
        }
    }

    /// The same draw and batch give the same bits; another batch other scales.
    @Test func calibrationIsDeterministic() throws {
        var (architecture, images, batch) = try Self.sixBlockSetting()
        architecture.initialisation = .lsuv
        let he = try Network(architecture).initialParameters(seed: 9)
        var (a, b, c) = (he, he, he)
        try UnitVarianceCalibration.calibrate(&a, architecture: architecture, input: batch, items: 32)
        try UnitVarianceCalibration.calibrate(&b, architecture: architecture, input: batch, items: 32)
        try UnitVarianceCalibration.calibrate(&c, architecture: architecture, input: Array(images.suffix(32 * architecture.itemSize)), items: 32)
        #expect(a == b)
        #expect(a != c && a != he)
    }
}
