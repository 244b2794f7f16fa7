import Basics
import Structures
import Testing
@testable import Networks

/// The linear baseline of `bench accuracy`: pair-distance histograms solved by LAPACK, and the
/// `atomic` patch-reach warning.
struct LinearBaselineTests {
    @Test func leastSquaresRecoversAnExactlyLinearTarget() throws {
        var generator = SeededGenerator(seed: 3)
        let truth = [0.5, -2, 3.25, 0]
        let rows = (0..<40).map { _ in (0..<4).map { _ in generator.uniform(-1, 1) } }
        let fit = try LinearLeastSquares(rows: rows, targets: rows.map { zip($0, truth).reduce(0) { $0 + $1.0 * $1.1 } })
        #expect(fit.rank == 4)
        for (got, want) in zip(fit.coefficients, truth) { #expect(abs(got - want) < 1e-10, "\(fit.coefficients)") }
    }

    @Test func leastSquaresMinimisesTheResidualOfANoisyLine() throws {
        // Points (0, 2), (1, 1), (2, 4), (3, 3): by hand, slope Sxy / Sxx = 3 / 5 = 0.6, intercept 2.5 − 0.6 × 1.5 = 1.6.
        let xs = [0.0, 1, 2, 3], ys = [2.0, 1, 4, 3]
        let fit = try LinearLeastSquares(rows: xs.map { [1, $0] }, targets: ys)
        #expect(abs(fit.coefficients[0] - 1.6) < 1e-12 && abs(fit.coefficients[1] - 0.6) < 1e-12, "\(fit.coefficients)")
    }

    @Test func aRankDeficientDesignGivesTheMinimumNormSolution() throws {
        // The second column is always 0 (an empty distance bin): its coefficient is 0, the fit still exact.
        let rows = [[1.0, 0, 2], [1, 0, 3], [1, 0, 5]]
        let fit = try LinearLeastSquares(rows: rows, targets: rows.map { 4 + 0.5 * $0[2] })
        #expect(fit.rank == 2)
        #expect(abs(fit.coefficients[1]) < 1e-12 && abs(fit.coefficients[0] - 4) < 1e-10 && abs(fit.coefficients[2] - 0.5) < 1e-10)
    }

    @Test func leastSquaresRejectsRaggedOrNonFiniteInput() {
        #expect(throws: NetworkError.self) { try LinearLeastSquares(rows: [[1, 2], [1]], targets: [1, 2]) }
        #expect(throws: NetworkError.self) { try LinearLeastSquares(rows: [[1, .nan]], targets: [1]) }
        #expect(throws: NetworkError.self) { try LinearLeastSquares(rows: [], targets: []) }
    }

    /// A pair energy constant within each bin is linear in the histogram: the fit recovers it
    /// exactly and predicts unseen clusters to rounding.
    @Test func histogramFitRecoversAPiecewiseConstantPairEnergy() throws {
        let histogram = try PairDistanceHistogram(binWidth: 0.5, cutoff: 6)
        func pairEnergy(_ r: Double) -> Double { r < 6 ? -1 / Double(1 + Int(r / 0.5)) : 0 }
        func energy(_ s: Structure) -> Double {
            var total = 0.3 * Double(s.positions.count)
            for i in s.positions.indices { for j in s.positions.indices where j > i {
                let d = s.positions[i] - s.positions[j]
                total += pairEnergy((d * d).sum().squareRoot())
            } }
            return total
        }
        let clusters = LennardJonesClusters.generate(count: 300, seed: 5)
        let training = clusters[..<250], unseen = clusters[250...]
        let fit = try LinearLeastSquares(rows: training.map(histogram.features), targets: training.map(energy))
        for s in unseen { #expect(abs(fit.predict(histogram.features(of: s)) - energy(s)) < 1e-8) }
    }

    @Test func histogramCountsPairsPerBin() throws {
        let histogram = try PairDistanceHistogram(binWidth: 1, cutoff: 3)
        // Atoms at x = 0, 1.5, 2.5: distances 1.5, 2.5, 1.0 → bins 1, 2, 1.
        let s = Structure(symbols: ["Ar", "Ar", "Ar"], positions: [SIMD3(0, 0, 0), SIMD3(1.5, 0, 0), SIMD3(2.5, 0, 0)])
        #expect(histogram.features(of: s) == [1, 3, 0, 2, 1])
        #expect(histogram.columnNames.count == histogram.columns)
        #expect(throws: DescriptorError.self) { try PairDistanceHistogram(binWidth: 0, cutoff: 3) }
        #expect(throws: DescriptorError.self) { try PairDistanceHistogram(binWidth: 1e-9, cutoff: 3) }
    }

    @Test func theInteractionRangeRuleIsTwiceTheMedianNearestNeighbourDistance() throws {
        // A 4 × 4 square lattice of spacing 1.3 Å: every atom's nearest neighbour is 1.3 Å away.
        let positions = (0..<16).map { SIMD3(1.3 * Double($0 % 4), 1.3 * Double($0 / 4), 0) }
        let lattice = Structure(symbols: Array(repeating: "Cu", count: 16), positions: positions)
        let range = try InteractionRange.estimate(LeadingStructures(LoadedStructures([lattice])))
        #expect(range.map { abs($0 - 2.6) < 1e-12 } == true, "\(String(describing: range))")
        #expect(try InteractionRange.estimate(LeadingStructures(LoadedStructures([Structure(symbols: ["Cu"], positions: [.zero])]))) == nil)
    }

    @Test func theAtomicPatchWarnsWhenItStopsShortOfTheRange() {
        var options = ModelOptions()
        options.patchSize = 17
        options.patchSpacing = 0.35
        #expect(abs(options.patchReach - 2.8) < 1e-12)
        #expect(options.patchReachWarning(interactionRange: 2.5, how: "test") == nil)
        let warning = options.patchReachWarning(interactionRange: 4, how: "test")
        #expect(warning?.contains("reaches 2.80 Å") == true && warning?.contains("interaction range 4.00 Å (test)") == true
                && warning?.contains("--patch-size 24") == true, "\(warning ?? "nil")")
        // Or the same 17 pixels spread 2 × 4 Å / 16 = 0.5 Å apart, which σ 0.4 Å still samples.
        #expect(warning?.contains("so does --patch-spacing 0.50 at this size.") == true, "\(warning ?? "nil")")
        options.patchSigma = 0.1
        #expect(options.patchReachWarning(interactionRange: 4, how: "test")?.contains("--patch-spacing 0.50 at this size with --patch-sigma at least 0.125") == true)
        options.patchSigma = 0.4
        options.patchSpacing = 0.5
        #expect(options.patchReachWarning(interactionRange: 4, how: "test") == nil)
        options.patchSpacing = 0.35
        options.patchSize = 24
        #expect(options.patchReachWarning(interactionRange: 4, how: "test") == nil)
    }
}
