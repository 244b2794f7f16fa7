import Structures

/// One model kind, whole: how its options are checked, how its architecture and input encoding
/// are built for a data set, which encodings are its own and how they turn structures into
/// items, what its training leans on, and how its members are explained. Each kind is one
/// conforming type in a file of its own (`SitesModel.swift`, `RyczkoModel.swift`,
/// `AtomicModel.swift`), listed once in `ModelRecipes.registered`, as deepmd-kit registers its
/// models. A new kind: a `ModelKind` case, its `InputEncoding` case if it reads structures in a
/// new way (the model file's format), one such file, one line in `registered`.
///
/// A kind's decomposition code cannot live here: `Decomposition` depends on `Networks`, not the
/// other way round. So a recipe names its method by a `DecompositionMethod` value, and
/// `Decomposition` (`SiteDecomposer.decompose`) maps each method to its code; a kind explained
/// by a method that exists already touches nothing there.
protocol ModelRecipe: Sendable {
    var kind: ModelKind { get }
    /// A few words on the kind, for `--model`'s help.
    var summary: String { get }
    var decomposition: DecompositionMethod { get }
    /// Whether training spends its time in convolutions, so oneDNN gets the threads (`setThreads`).
    var convolves: Bool { get }
    /// The options this kind reads, each within its range; errors name the option.
    func check(_ options: ModelOptions) throws
    /// The architecture and encoding for a data set, from checked options.
    func build(for structures: StructureStore, options: ModelOptions) throws -> (Architecture, InputEncoding)
    /// How this kind uses the image rasteriser, which decides which image options apply.
    func imageUse(_ options: ModelOptions) -> ImageUse
    /// A warning when the items cannot see as far as atoms interact; `interactionRange` gives
    /// the range and where it came from, and is asked only by kinds whose items see a neighbourhood.
    func reachWarning(_ options: ModelOptions, interactionRange: () throws -> (range: Double, how: String)?) throws -> String?
    /// This kind's code for `encoding`, or nil when the encoding is another kind's.
    func scheme(for encoding: InputEncoding) -> (any EncodingScheme)?
    /// What this kind trains with where the user gives no option (`patchShape` for `atomic`),
    /// each value the one a benchmark found (Docs/Benchmarks.md).
    func defaults(patchShape: PatchShape) -> ModelDefaults
}

extension ModelRecipe {
    func reachWarning(_ options: ModelOptions, interactionRange: () throws -> (range: Double, how: String)?) throws -> String? { nil }
}

/// The one list of model kinds' recipes.
enum ModelRecipes {
    static let registered: [any ModelRecipe] = [SitesRecipe(), RyczkoRecipe(), AtomicRecipe()]
}

/// How a kind's trained members are explained site by site; `Decomposition` maps each to its code.
public enum DecompositionMethod: Sendable, Equatable {
    /// c(s, e) read off each network for every site and element: exact, needs no structures.
    case readOff
    /// Swaps on the structures (partial dependence): any model.
    case swaps
    /// Swaps, plus each structure's exact split of its prediction over its atoms.
    case swapsAndAtomSplit
}

/// How a model kind uses the image rasteriser.
public enum ImageUse: Sendable, Equatable {
    /// Not at all, or only for settings that need no projection (radial distances).
    case none
    /// One projected image per structure.
    case wholeImages
    /// A projected patch around each atom, `extent` Å a side, Gaussians `sigma` Å wide.
    case patches(extent: Double, sigma: Double)
}

extension ModelKind {
    /// This kind's recipe (`ModelRecipes.registered`; a test checks every kind has one).
    var recipe: any ModelRecipe {
        guard let recipe = ModelRecipes.registered.first(where: { $0.kind == self }) else {
            preconditionFailure("ModelKind.\(rawValue) has no recipe in ModelRecipes.registered")
        }
        return recipe
    }

    /// A few words on the kind, for `--model`'s help.
    public var summary: String { recipe.summary }

    /// Whether its network has convolution layers (which `--conv-backend` and `--precision` apply to).
    public var convolves: Bool { recipe.convolves }

    /// How this kind's members are explained.
    public var decompositionMethod: DecompositionMethod { recipe.decomposition }
}

extension ModelOptions {
    /// How `kind` with these options uses the image rasteriser.
    public func imageUse(for kind: ModelKind) -> ImageUse { kind.recipe.imageUse(self) }

    /// A warning when `kind`'s items cannot see as far as atoms interact, nil when they can or
    /// when its items are not neighbourhoods (then `interactionRange` is not asked).
    public func reachWarning(for kind: ModelKind, interactionRange: () throws -> (range: Double, how: String)?) throws -> String? {
        try kind.recipe.reachWarning(self, interactionRange: interactionRange)
    }

    /// Throws the error of an option outside its range.
    func require(_ value: Int, within range: ClosedRange<Int>, option: String, meaning: String) throws {
        guard range.contains(value) else {
            throw NetworkError("--\(option) (\(meaning)) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }
}

/// Builds the architecture and input encoding of a model kind for a data set.
public func makeModel(_ kind: ModelKind, for structures: [Structure], options: ModelOptions) throws -> (Architecture, InputEncoding) {
    try makeModel(kind, for: LoadedStructures(structures), options: options)
}

/// Builds the architecture and input encoding of a model kind for a data set (only the species
/// present and the first structure's site labels are read), after checking the options (each
/// error names its option and allowed range) and the model's size against `ModelBudget`. The
/// weights' initialisation is recorded.
public func makeModel(_ kind: ModelKind, for structures: StructureStore, options: ModelOptions) throws -> (Architecture, InputEncoding) {
    let recipe = kind.recipe
    try recipe.check(options)
    var (architecture, encoding) = try recipe.build(for: structures, options: options)
    architecture.initialisation = options.initialisation ?? recipe.defaults(patchShape: options.patchShape).initialisation ?? .he
    do { try architecture.checkSize() } catch let error as NetworkError {
        throw NetworkError("the \(kind.rawValue) model these options describe is too large: \(error.message)")
    }
    return (architecture, encoding)
}

/// One encoding's code: the shape of its items, the check of its values, and its encoder.
protocol EncodingScheme: Sendable {
    var itemShape: (height: Int, width: Int, channels: Int) { get }
    /// Checks the encoding's own values (a model file's, say).
    func check() throws
    /// The elements it can encode; nil when any will do.
    var knownElements: Set<String>? { get }
    /// Whether targets are centred on their mean energy per structure (`TargetNormalisation`).
    var centresEnergies: Bool { get }
    /// Its encoder, with whatever it builds once (a rasteriser); the encoding is checked.
    func makeEncoder() throws -> any ItemEncoder
}

extension EncodingScheme {
    var centresEnergies: Bool { true }
}

/// Turns one structure into its items.
protocol ItemEncoder: Sendable {
    func encode(_ structure: Structure) throws -> EncodedStructure
}

extension InputEncoding {
    /// The recipe whose encoding this is, and the encoding's code.
    var owner: (recipe: any ModelRecipe, scheme: any EncodingScheme) {
        for recipe in ModelRecipes.registered {
            if let scheme = recipe.scheme(for: self) { return (recipe, scheme) }
        }
        preconditionFailure("no recipe in ModelRecipes.registered reads this encoding: \(self)")
    }

    /// The model kind this encoding belongs to.
    public var kind: ModelKind { owner.recipe.kind }
}
