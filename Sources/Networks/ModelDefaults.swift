/// What a model kind trains with where the user gives no option, chosen by measurement
/// (Docs/Benchmarks.md) and owned by the kind's recipe (`ModelRecipe.defaults`). A nil field
/// takes the general default (`TrainingPlan`'s epochs and learning rate).
public struct ModelDefaults: Sendable, Equatable {
    public var epochs: Int?
    public var learningRate: Double?
    /// `atomic`: the patch grid of the patch shape.
    public var patch: PatchGrid?
    /// Whole images: the box is chosen from the data (`--extent auto`) instead of the seed's
    /// 5 Å at the origin, so no atom falls off the grid.
    public var extentFromData = false
    /// How the weights start (nil: He).
    public var initialisation: WeightInitialisation?

    public init(epochs: Int? = nil, learningRate: Double? = nil, patch: PatchGrid? = nil, extentFromData: Bool = false,
                initialisation: WeightInitialisation? = nil) {
        (self.epochs, self.learningRate, self.patch, self.extentFromData) = (epochs, learningRate, patch, extentFromData)
        self.initialisation = initialisation
    }
}

/// An `atomic` patch's grid: pixels a side (square) or distance bins (radial), their spacing
/// and the Gaussians' width, Å.
public struct PatchGrid: Sendable, Equatable {
    public var size: Int
    public var spacing: Double
    public var sigma: Double

    public init(size: Int, spacing: Double, sigma: Double) { (self.size, self.spacing, self.sigma) = (size, spacing, sigma) }
}

extension ModelKind {
    /// This kind's defaults; `patchShape` matters only to `atomic`.
    public func defaults(patchShape: PatchShape) -> ModelDefaults { recipe.defaults(patchShape: patchShape) }

    /// Every kind (and `atomic` patch shape) with its defaults, in `allCases` order: for help texts.
    public static var allDefaults: [(name: String, defaults: ModelDefaults)] {
        allCases.flatMap { kind -> [(name: String, defaults: ModelDefaults)] in
            guard kind == .atomic else { return [(kind.rawValue, kind.defaults(patchShape: .square))] }
            return PatchShape.allCases.map { ("\(kind.rawValue) \($0.rawValue)", kind.defaults(patchShape: $0)) }
        }
    }
}

extension PatchShape {
    /// The patch grid this shape trains with by default (`AtomicRecipe`).
    public var defaultGrid: PatchGrid { AtomicRecipe.grid(of: self) }
}
