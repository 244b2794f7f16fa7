import Foundation
import Images
import Structures

/// How the `atomic` model sees each atom's neighbourhood.
public enum PatchShape: String, Sendable, Codable, CaseIterable {
    /// A square 2-D (or 3-D) image centred on the atom.
    case square
    /// Gaussians on a 1-D grid of distances from the atom (`RadialRasteriser`): rotation-invariant.
    case radial
}

/// The sizes a user may choose for each model, with the defaults of the seeds.
public struct ModelOptions: Sendable, Equatable {
    /// `sites`: hidden width (seed A: 6) and the element descriptors.
    public var hidden = 6
    public var descriptors: ElementDescriptors?
    /// `ryczko`: the image rasteriser settings; blocks and dense width (seed B: 6 and 1024).
    public var raster = RasterSettings.seedExample
    public var ryczkoBlocks = 6
    public var ryczkoDense = 1024
    /// `atomic`: patch shape, size (pixels a side, or distance bins when radial) and spacing,
    /// filters and hidden width of the shared network.
    /// (The patch grid is the square shape's; `PatchShape.defaultGrid` gives each shape's.)
    public var patchShape = PatchShape.square
    public var patchSize = PatchShape.square.defaultGrid.size
    public var patchSpacing = PatchShape.square.defaultGrid.spacing
    public var patchSigma = PatchShape.square.defaultGrid.sigma
    public var atomicFilters = 8
    public var atomicHidden = 16
    /// `atomic` on radial patches: hidden width; 0 (the default) makes the network linear, which
    /// trained best on the Lennard-Jones clusters (Benchmarks.md).
    public var radialHidden = 0
    /// How the weights start (`Initialiser.swift`); nil: the kind's default
    /// (`ModelDefaults.initialisation`, else He), so code that builds models without the command
    /// line trains as `sitelens train` does.
    public var initialisation: WeightInitialisation?

    public init() {}
}

extension ModelOptions {
    /// Å from an atom to its `atomic` patch's edge (the last bin of a radial patch): how far
    /// the per-atom network can see.
    public var patchReach: Double { patchShape == .radial ? patchSpan : patchSpan / 2 }

    /// Å from an `atomic` patch's first pixel (or distance bin) to its last.
    public var patchSpan: Double { patchSpacing * Double(max(patchSize - 1, 0)) }

    /// The `atomic` patch sizes allowed: pixels per side of a square patch, or radial distance bins.
    public var patchSizeRange: ClosedRange<Int> { patchShape == .radial ? RadialRasteriser.binRange : 3...255 }

    /// A warning when the `atomic` patch stops short of `interactionRange` (Å; `how` says where
    /// the range came from): atoms beyond the patch cannot affect an atom's contribution, so
    /// energy that depends on them cannot be learnt. Nil when the patch reaches it.
    public func patchReachWarning(interactionRange: Double, how: String) -> String? {
        guard interactionRange.isFinite, patchReach < interactionRange else { return nil }
        let radial = patchShape == .radial
        // In Double: a tiny spacing or a huge range asks for more pixels than an Int holds.
        let needed = ((radial ? 1 : 2) * interactionRange / patchSpacing).rounded(.up) + 1
        let bySize = needed <= Double(patchSizeRange.upperBound)
            ? String(format: "--patch-size %.0f at this spacing reaches it", needed)
            : "no --patch-size up to \(patchSizeRange.upperBound) reaches it at this spacing"
        // The same pixels spread wider cost nothing more per atom; on EMT slabs a square patch
        // spread from 2.8 to 4.5 Å brought the subsurface swap effects from slope 0.47–0.58 to
        // 0.86–1.04 (Method.md).
        let spacing = (((radial ? 1 : 2) * interactionRange / Double(max(patchSize - 1, 1))) * 100).rounded(.up) / 100
        let bySpacing = String(format: "; so does --patch-spacing %.2f at this size", spacing)
            + (spacing > 4 * patchSigma ? String(format: " with --patch-sigma at least %.3g", spacing / 4) : "")
        let remedy = bySize + bySpacing + "."
        return String(format: "warning: the atomic patch reaches %.2f Å from each atom ((--patch-size %d − 1) × --patch-spacing %.3g Å%@), "
                      + "less than the interaction range %.2f Å (%@): farther neighbours cannot affect an atom's contribution. %@",
                      patchReach, patchSize, patchSpacing, radial ? "" : " / 2", interactionRange, how, remedy)
    }
}
