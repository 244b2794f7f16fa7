import Basics
import Foundation
import Testing
import TestSupport
@testable import Images
@testable import Networks
@testable import Structures

/// The `atomic` model on radial patches: its network's gradients, its options, its files.
struct RadialModelTests {
    func radialOptions(bins: Int = 30, spacing: Double = 0.1, sigma: Double = 0.1, hidden: Int = 5) -> ModelOptions {
        var options = ModelOptions()
        options.patchShape = .radial
        options.patchSize = bins
        options.patchSpacing = spacing
        options.patchSigma = sigma
        options.radialHidden = hidden
        return options
    }

    func structures() -> [Structure] {
        [Structure(symbols: ["Cu", "Pt", "Cu"], positions: [.zero, SIMD3(1.2, 0.3, 0), SIMD3(0.1, 2.0, 0.5)], energy: -3),
         Structure(symbols: ["Pt", "Pt", "Cu", "Cu"], positions: [.zero, SIMD3(2.1, 0, 0), SIMD3(0, 1.4, 0), SIMD3(1.5, 1.5, 1)], energy: -4)]
    }

    @Test func gradientsMatchFiniteDifferences() throws {
        for hidden in [0, 6] {
            let architecture = Architecture.radialAtomic(bins: 12, channels: 2, hidden: hidden)
            let result = try gradientCheck(architecture, items: 5, initialisation: .he)
            #expect(result.worst <= 0 && result.checked > 10, "radial hidden \(hidden): worst excess \(result.worst) over \(result.checked) parameters")
        }
        // The check can fail: a backward that sees other weights is caught.
        let broken = try gradientCheck(Architecture.radialAtomic(bins: 12, channels: 2, hidden: 6), items: 5,
                                       breakBackward: { $0 = $0.map { $0 * 1.5 } })
        #expect(broken.worst > 0)
    }

    @Test func theRecipeBuildsARadialEncodingAndItsNetwork() throws {
        let (architecture, encoding) = try makeModel(.atomic, for: structures(), options: radialOptions())
        guard case .radialPatches(let settings, let bins, let spacing) = encoding else {
            Issue.record("expected radial patches, got \(encoding)")
            return
        }
        #expect(bins == 30 && spacing == 0.1 && settings.sigma == 0.1 && settings.channels == .species(["Cu", "Pt"]))
        #expect(architecture.kind == .atomic && architecture.itemHeight == 1 && architecture.itemWidth == 30 && architecture.itemChannels == 2)
        #expect(architecture.layers.count == 3)
        let linear = try makeModel(.atomic, for: structures(), options: radialOptions(hidden: 0)).0
        #expect(linear.layers == [.flatten, .dense(units: 1, activation: .identity, bias: true)])
        // Items: one per atom, labelled and typed by it.
        let encoded = try SampleEncoder(encoding).encode(structures()[1])
        #expect(encoded.itemCount == 4 && encoded.values.count == 4 * 30 * 2 && encoded.elements == ["Pt", "Pt", "Cu", "Cu"])
        // The reach of a radial patch is its last bin's distance, not half the span.
        #expect(abs(radialOptions().patchReach - 2.9) < 1e-12)
        let warning = radialOptions().patchReachWarning(interactionRange: 4, how: "test")
        #expect(warning?.contains("reaches 2.90 Å") == true && warning?.contains("--patch-size 41") == true, "\(warning ?? "none")")
    }

    @Test func optionsOutOfRangeNameTheOption() throws {
        func message(_ options: ModelOptions) -> String? {
            do { _ = try makeModel(.atomic, for: structures(), options: options); return nil } catch { return "\(error)" }
        }
        #expect(message(radialOptions(bins: 2))?.contains("--patch-size") == true)
        #expect(message(radialOptions(bins: 5000))?.contains("--patch-size (radial patch distance bins) must be in 3...4096") == true)
        #expect(message(radialOptions(bins: 300)) == nil, "a radial patch may have more bins than a square one has pixels a side")
        #expect(message(radialOptions(hidden: -1))?.contains("--radial-hidden") == true)
        #expect(message(radialOptions(spacing: 0))?.contains("--patch-spacing") == true)
        #expect(message(radialOptions(spacing: 0.5, sigma: 0.1))?.contains("--patch-sigma") == true)
        // The square patch keeps its own range.
        var square = radialOptions(bins: 300)
        square.patchShape = .square
        #expect(message(square)?.contains("3...255") == true)
    }

    @Test func radialTargetsKeepNoPerStructureMean() throws {
        let (_, radial) = try makeModel(.atomic, for: structures(), options: radialOptions())
        var squareOptions = ModelOptions()
        squareOptions.patchSize = 5
        let (_, square) = try makeModel(.atomic, for: structures(), options: squareOptions)
        #expect(TargetNormalisation(fitting: [-3, -4], for: radial) == TargetNormalisation(mean: 0, scale: 0.5))
        #expect(TargetNormalisation(fitting: [-3, -4], for: square) == TargetNormalisation(mean: -3.5, scale: 0.5))
    }

    @Test func modelFilesRoundTrip() throws {
        let (architecture, encoding) = try makeModel(.atomic, for: structures(), options: radialOptions())
        let network = try Network(architecture)
        let model = try EnergyModel(modelDescription: ModelDescription(architecture: architecture, encoding: encoding,
                                                                  normalisation: TargetNormalisation(fitting: [-3, -4], for: encoding)),
                                    parameters: network.initialParameters(seed: 9))
        let folder = try temporaryFolder("sitelens-radial-model")
        defer { try? FileManager.default.removeItem(at: folder) }
        try model.save(to: folder, name: "member-0")
        let loaded = try EnergyModel.load(from: folder, name: "member-0")
        #expect(loaded.modelDescription == model.modelDescription && loaded.parameters == model.parameters)
        for structure in structures() { #expect(try loaded.predict(structure) == model.predict(structure)) }
        let json = try String(contentsOf: folder.appendingPathComponent("member-0.json"), encoding: .utf8)
        #expect(json.contains("radialPatches"))
        // A file whose radial bins disagree with the architecture's item width is refused.
        let edited = json.replacingOccurrences(of: "\"bins\" : 30", with: "\"bins\" : 31")
        #expect(edited != json)
        try edited.write(to: folder.appendingPathComponent("member-0.json"), atomically: true, encoding: .utf8)
        #expect { try EnergyModel.load(from: folder, name: "member-0") } throws: { "\($0)".contains("architecture.itemChannels") }
    }
}
