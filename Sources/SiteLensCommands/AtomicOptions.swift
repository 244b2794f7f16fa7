import ArgumentParser
import Networks

extension PatchShape: ExpressibleByArgument {}

/// The `atomic` model's patch and network options, shared by `train` and `bench accuracy`: one
/// owner of their names and help; the defaults are `ModelOptions`'.
struct AtomicOptions: ParsableArguments {
    private static let defaults = ModelOptions()

    @Option(help: "atomic: square (2-D image patches, a small CNN) or radial (Gaussians on a grid of distances, rotation-invariant; --patch-size bins --patch-spacing Δr apart).")
    var patchShape = AtomicOptions.defaults.patchShape

    @Option(help: "atomic: patch size in pixels (square) or distance bins (radial) (default: \(AtomicOptions.byShape { "\($0.size)" })).")
    var patchSize: Int?

    @Option(help: "atomic: patch pixel spacing (square) or bin spacing Δr (radial), Å (default: \(AtomicOptions.byShape { "\($0.spacing)" })).")
    var patchSpacing: Double?

    @Option(help: "atomic: Gaussian width in patches, Å (default: \(AtomicOptions.byShape { "\($0.sigma)" })).")
    var patchSigma: Double?

    @Option(help: "atomic: filters of the shared CNN (square patches).")
    var filters = AtomicOptions.defaults.atomicFilters

    @Option(help: "atomic: hidden width of the shared CNN's dense layer (square patches).")
    var atomicHidden = AtomicOptions.defaults.atomicHidden

    @Option(help: "atomic: hidden width of the radial patches' network (0: linear, Flatten → Dense(1)).")
    var radialHidden = AtomicOptions.defaults.radialHidden

    /// Each patch shape's default of one grid value, for the help: "square 17, radial 226".
    private static func byShape(_ value: (PatchGrid) -> String) -> String {
        PatchShape.allCases.map { "\($0.rawValue) \(value($0.defaultGrid))" }.joined(separator: ", ")
    }

    /// Sets these options in `options`; a patch grid value not given is the patch shape's default.
    func apply(to options: inout ModelOptions) {
        let grid = patchShape.defaultGrid
        options.patchShape = patchShape
        options.patchSize = patchSize ?? grid.size
        options.patchSpacing = patchSpacing ?? grid.spacing
        options.patchSigma = patchSigma ?? grid.sigma
        options.atomicFilters = filters
        options.atomicHidden = atomicHidden
        options.radialHidden = radialHidden
    }
}
