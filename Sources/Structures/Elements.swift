/// One chemical element: symbol, atomic number and the descriptors models can use.
public struct Element: Sendable, Equatable {
    public let symbol: String
    public let atomicNumber: Int
    /// IUPAC group 1–18; nil for the lanthanides and actinides after La and Ac.
    public let group: Int?
    public let period: Int
    /// Covalent radius in Å (Cordero et al., Dalton Trans. 2008); nil past Cm.
    public let covalentRadius: Double?
    /// Pauling electronegativity; nil where none is defined (He, Ne, Ar, the heaviest elements).
    public let electronegativity: Double?
}

/// The periodic table, Z 1–118, looked up by symbol or number.
public enum PeriodicTable {
    static let symbols: [String] = [
        "H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
        "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn", "Ga", "Ge", "As", "Se", "Br", "Kr",
        "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I", "Xe",
        "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu",
        "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn",
        "Fr", "Ra", "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr",
        "Rf", "Db", "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og",
    ]

    // Cordero et al. 2008, Z 1–96 (low-spin values for Mn, Fe, Co; sp3 for C).
    static let covalentRadii: [Double] = [
        0.31, 0.28, 1.28, 0.96, 0.84, 0.76, 0.71, 0.66, 0.57, 0.58, 1.66, 1.41, 1.21, 1.11, 1.07, 1.05, 1.02, 1.06,
        2.03, 1.76, 1.70, 1.60, 1.53, 1.39, 1.39, 1.32, 1.26, 1.24, 1.32, 1.22, 1.22, 1.20, 1.19, 1.20, 1.20, 1.16,
        2.20, 1.95, 1.90, 1.75, 1.64, 1.54, 1.47, 1.46, 1.42, 1.39, 1.45, 1.44, 1.42, 1.39, 1.39, 1.38, 1.39, 1.40,
        2.44, 2.15, 2.07, 2.04, 2.03, 2.01, 1.99, 1.98, 1.98, 1.96, 1.94, 1.92, 1.92, 1.89, 1.90, 1.87, 1.87,
        1.75, 1.70, 1.62, 1.51, 1.44, 1.41, 1.36, 1.36, 1.32, 1.45, 1.46, 1.48, 1.40, 1.50, 1.50,
        2.60, 2.21, 2.15, 2.06, 2.00, 1.96, 1.90, 1.87, 1.80, 1.69,
    ]

    // Pauling electronegativities, Z 1–102; 0 marks "not defined".
    static let paulingValues: [Double] = [
        2.20, 0, 0.98, 1.57, 2.04, 2.55, 3.04, 3.44, 3.98, 0, 0.93, 1.31, 1.61, 1.90, 2.19, 2.58, 3.16, 0,
        0.82, 1.00, 1.36, 1.54, 1.63, 1.66, 1.55, 1.83, 1.88, 1.91, 1.90, 1.65, 1.81, 2.01, 2.18, 2.55, 2.96, 3.00,
        0.82, 0.95, 1.22, 1.33, 1.60, 2.16, 1.90, 2.20, 2.28, 2.20, 1.93, 1.69, 1.78, 1.96, 2.05, 2.10, 2.66, 2.60,
        0.79, 0.89, 1.10, 1.12, 1.13, 1.14, 1.13, 1.17, 1.20, 1.20, 1.10, 1.22, 1.23, 1.24, 1.25, 1.10, 1.27,
        1.30, 1.50, 2.36, 1.90, 2.20, 2.20, 2.28, 2.54, 2.00, 1.62, 2.33, 2.02, 2.00, 2.20, 2.20,
        0.70, 0.90, 1.10, 1.30, 1.50, 1.38, 1.36, 1.28, 1.30, 1.30, 1.30, 1.30, 1.30, 1.30, 1.30, 1.30,
    ]

    /// Every element, index Z−1.
    public static let all: [Element] = symbols.indices.map { index in
        let z = index + 1
        let (period, group) = periodAndGroup(z)
        return Element(
            symbol: symbols[index], atomicNumber: z, group: group, period: period,
            covalentRadius: index < covalentRadii.count ? covalentRadii[index] : nil,
            electronegativity: index < paulingValues.count && paulingValues[index] > 0 ? paulingValues[index] : nil)
    }

    private static let bySymbol: [String: Element] = Dictionary(uniqueKeysWithValues: all.map { ($0.symbol, $0) })

    /// The element with this symbol (case-sensitive, as chemists write it), or nil.
    public static func element(_ symbol: String) -> Element? { bySymbol[symbol] }

    /// The element with atomic number `z`, or nil.
    public static func element(atomicNumber z: Int) -> Element? { z >= 1 && z <= all.count ? all[z - 1] : nil }

    /// The distinct symbols in order of atomic number; anything not an element (a dummy atom)
    /// comes last.
    public static func inTableOrder<S: Sequence>(_ symbols: S) -> [String] where S.Element == String {
        Set(symbols).sorted { a, b in
            let (za, zb) = (element(a)?.atomicNumber ?? Int.max, element(b)?.atomicNumber ?? Int.max)
            return za != zb ? za < zb : a < b
        }
    }

    /// Period and group from Z, by the shape of the table.
    static func periodAndGroup(_ z: Int) -> (Int, Int?) {
        let periodStarts = [1, 3, 11, 19, 37, 55, 87, 119]
        let period = periodStarts.lastIndex(where: { $0 <= z })! + 1
        let offset = z - periodStarts[period - 1]  // 0-based position within the period
        switch period {
        case 1: return (1, z == 1 ? 1 : 18)
        case 2, 3: return (period, offset < 2 ? offset + 1 : offset + 11)
        case 4, 5: return (period, offset + 1)
        default:
            // Periods 6 and 7: groups 1–3, then 14 f-block elements without a group, then 4–18.
            if offset < 3 { return (period, offset + 1) }
            if offset < 17 { return (period, nil) }
            return (period, offset - 13)
        }
    }
}
