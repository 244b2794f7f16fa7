import ArgumentParser
import Networks

extension PatchShape: ExpressibleByArgument {}

/// The `atomic` model's patch and network options, shared by `train` and `bench accuracy`: one
/// owner of their names and help; the defaults are `ModelOptions`'.
struct AtomicOptions: ParsableArguments {
    private static let defaults = ModelOptions()

    @Option(help: "atomic: square (2-D image patches, a small CNN) or radial (Gaussians on a grid of distances, rotation-invariant; --patch-size bins --patch-spacing Δr apart).")
    var patchShape = AtomicOptions.defaults.patchShape

    @Option(help: "atomic: patch size in pixels (square) or distance bins (radial).")
    var patchSize = AtomicOptions.defaults.patchSize

    @Option(help: "atomic: patch pixel spacing (square) or bin spacing Δr (radial), Å.")
    var patchSpacing = AtomicOptions.defaults.patchSpacing

    @Option(help: "atomic: Gaussian width in patches, Å.")
    var patchSigma = AtomicOptions.defaults.patchSigma

    @Option(help: "atomic: filters of the shared CNN (square patches).")
    var filters = AtomicOptions.defaults.atomicFilters

    @Option(help: "atomic: hidden width of the shared CNN's dense layer (square patches).")
    var atomicHidden = AtomicOptions.defaults.atomicHidden

    @Option(help: "atomic: hidden width of the radial patches' network (0: linear, Flatten → Dense(1)).")
    var radialHidden = AtomicOptions.defaults.radialHidden

    /// Sets these options in `options`.
    func apply(to options: inout ModelOptions) {
        options.patchShape = patchShape
        options.patchSize = patchSize
        options.patchSpacing = patchSpacing
        options.patchSigma = patchSigma
        options.atomicFilters = filters
        options.atomicHidden = atomicHidden
        options.radialHidden = radialHidden
    }
}
