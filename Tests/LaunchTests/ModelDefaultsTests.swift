import Foundation
import Networks
import Structures
import Testing
@testable import SiteLensCommands

/// `train`'s options not given take the model's own defaults (its recipe's), a given option
/// always wins, and what the plan trains with is what `run.json` records.
struct ModelDefaultsTests {
    /// Lennard-Jones clusters drawn as copper, an element with the `sites` model's descriptors.
    let clusters = LoadedStructures(LennardJonesClusters.generate(count: 12, seed: 3).map {
        Structure(symbols: $0.symbols.map { _ in "Cu" }, positions: $0.positions, energy: $0.energy)
    })

    func plan(_ arguments: [String]) throws -> TrainingPlanView {
        let command = try Train.parse(["lj.xyz"] + arguments)
        let (plan, _) = try command.plan(for: clusters, leading: LeadingStructures(clusters))
        return TrainingPlanView(epochs: plan.epochs, learningRate: plan.learningRate,
                                grid: PatchGrid(size: plan.modelOptions.patchSize, spacing: plan.modelOptions.patchSpacing,
                                                sigma: plan.modelOptions.patchSigma),
                                recorded: plan.recordedOptions)
    }

    struct TrainingPlanView {
        let epochs: Int
        let learningRate: Double
        let grid: PatchGrid
        let recorded: [String: String]
    }

    /// The recipes hold the benchmarks' values (Docs/Benchmarks.md): radial patches the LJ
    /// recipe, `sites` the seed's 3000 epochs; the others the general defaults.
    @Test func theRecipesHoldTheMeasuredDefaults() {
        #expect(ModelKind.atomic.defaults(patchShape: .radial)
                == ModelDefaults(epochs: 3000, learningRate: 1e-4, patch: PatchGrid(size: 226, spacing: 0.02, sigma: 0.02)))
        #expect(ModelKind.sites.defaults(patchShape: .square).epochs == 3000)
        #expect(ModelKind.atomic.defaults(patchShape: .square) == ModelDefaults(patch: PatchGrid(size: 17, spacing: 0.35, sigma: 0.4)))
    }

    @Test func optionsNotGivenTakeTheModelsDefaults() throws {
        let radial = try plan(["--model", "atomic", "--patch-shape", "radial"])
        #expect(radial.epochs == 3000 && radial.learningRate == 1e-4, "\(radial)")
        #expect(radial.grid == PatchShape.radial.defaultGrid)
        #expect(radial.recorded["--patch-size"] == "226" && radial.recorded["--patch-spacing"] == "0.02"
                && radial.recorded["--patch-sigma"] == "0.02", "\(radial.recorded)")

        let square = try plan(["--model", "atomic"])
        #expect(square.epochs == 100 && square.learningRate == 1e-3 && square.grid == PatchShape.square.defaultGrid, "\(square)")
        #expect(square.recorded["--patch-size"] == "17", "\(square.recorded)")

        let sites = try plan(["--model", "sites"])
        #expect(sites.epochs == 3000 && sites.learningRate == 1e-3, "\(sites)")
    }

    @Test func aGivenOptionAlwaysWins() throws {
        let given = try plan(["--model", "atomic", "--patch-shape", "radial", "--epochs", "7", "--learning-rate", "0.01",
                              "--patch-size", "50", "--patch-spacing", "0.05", "--patch-sigma", "0.06"])
        #expect(given.epochs == 7 && given.learningRate == 0.01, "\(given)")
        #expect(given.grid == PatchGrid(size: 50, spacing: 0.05, sigma: 0.06))
        #expect(given.recorded["--patch-size"] == "50" && given.recorded["--patch-sigma"] == "0.06", "\(given.recorded)")
        // Only the grid value given is taken; the others stay the shape's.
        let one = try plan(["--model", "atomic", "--patch-shape", "radial", "--patch-size", "100"])
        #expect(one.grid == PatchGrid(size: 100, spacing: 0.02, sigma: 0.02))
        #expect(try plan(["--model", "sites", "--epochs", "12"]).epochs == 12)
    }

    /// ryczko starts from weights calibrated on data (the dead-members measurement), the others
    /// from He's; --init wins, and run.json records the initialisation used.
    @Test func ryczkoCalibratesItsWeightsByDefault() throws {
        #expect(ModelKind.ryczko.defaults(patchShape: .square).initialisation == .lsuv)
        for (arguments, wanted) in [(["--model", "ryczko"], "lsuv"), (["--model", "ryczko", "--init", "he"], "he"),
                                    (["--model", "atomic"], "he"), (["--model", "sites", "--init", "glorot"], "glorot")] {
            let command = try Train.parse(["lj.xyz"] + arguments)
            let (plan, _) = try command.plan(for: clusters, leading: LeadingStructures(clusters))
            #expect(plan.modelOptions.initialisation?.rawValue == wanted && plan.recordedOptions["--init"] == wanted, "\(arguments)")
        }
        // Built without the command line (benchmarks, the library), each kind starts as `train` would.
        for (kind, wanted) in [(ModelKind.ryczko, WeightInitialisation.lsuv), (.atomic, .he)] {
            #expect(try makeModel(kind, for: clusters, options: ModelOptions()).0.initialisation == wanted, "\(kind)")
        }
    }

    /// --lr-min is checked against the learning rate the run will use, the model's default too.
    @Test func theLearningRateBoundsUseTheResolvedRate() {
        #expect(throws: (any Error).self) {
            _ = try Train.parse(["lj.xyz", "--model", "atomic", "--patch-shape", "radial", "--lr-schedule", "cosine", "--lr-min", "5e-4"])
        }
        #expect(throws: Never.self) {
            _ = try Train.parse(["lj.xyz", "--model", "atomic", "--lr-schedule", "cosine", "--lr-min", "5e-4"])
        }
    }
}
