/// A plain atomic structure, as ASE's Atoms holds one: symbols, Cartesian positions in Å,
/// optional cell and periodic flags, optional target energy, optional per-atom site labels.
public struct Structure: Sendable, Equatable {
    /// Chemical symbols; `dummySymbol` marks a dummy atom.
    public var symbols: [String]
    /// Cartesian positions in Å.
    public var positions: [SIMD3<Double>]
    /// Lattice vectors as rows (a1, a2, a3) in Å, when the structure has a cell.
    public var cell: [SIMD3<Double>]?
    /// Periodic along a1, a2, a3.
    public var pbc: [Bool]
    /// Target energy in eV.
    public var energy: Double?
    /// A site label per atom ("T/B1", "Nsub2", ...), when the source names sites.
    public var siteLabels: [String]?
    /// Free-form key/value information from the source (extxyz comment keys, CSV group, line).
    public var info: [String: String]
    /// Extra per-atom columns kept from extxyz, by name.
    public var perAtomColumns: [String: PerAtomColumn]
    /// Column order of `perAtomColumns`, as read.
    public var perAtomColumnOrder: [String]

    public init(symbols: [String], positions: [SIMD3<Double>], cell: [SIMD3<Double>]? = nil,
                pbc: [Bool] = [false, false, false], energy: Double? = nil, siteLabels: [String]? = nil,
                info: [String: String] = [:]) {
        precondition(symbols.count == positions.count, "one symbol per position")
        self.symbols = symbols
        self.positions = positions
        self.cell = cell
        self.pbc = pbc
        self.energy = energy
        self.siteLabels = siteLabels
        self.info = info
        self.perAtomColumns = [:]
        self.perAtomColumnOrder = []
    }

    public var count: Int { symbols.count }

    /// Adds (or replaces) an extra per-atom column.
    public mutating func setColumn(_ name: String, _ column: PerAtomColumn) {
        precondition(column.count == count, "column \(name) needs one entry per atom")
        if perAtomColumns[name] == nil { perAtomColumnOrder.append(name) }
        perAtomColumns[name] = column
    }

    /// The label each atom is grouped by: its site label when there is one, else its species.
    public var groupingLabels: [String] { siteLabels ?? symbols }
}

/// One extra per-atom column of an extxyz file: a type and one or more values per atom.
public enum PerAtomColumn: Sendable, Equatable {
    case real([[Double]])
    case integer([[Int]])
    case string([[String]])
    case logical([[Bool]])

    public var count: Int {
        switch self {
        case .real(let v): return v.count
        case .integer(let v): return v.count
        case .string(let v): return v.count
        case .logical(let v): return v.count
        }
    }
}

extension Structure {
    /// The symbol of a dummy atom (the adsorbate marker of site templates), as in ASE: the one
    /// place it is spelled.
    public static let dummySymbol = "X"

    public static func isDummy(_ symbol: String) -> Bool { symbol == dummySymbol }

    /// Indices of the real (non-dummy) atoms, in order: the atoms per-atom models give items to.
    public var realAtoms: [Int] { symbols.indices.filter { !Structure.isDummy(symbols[$0]) } }
}
