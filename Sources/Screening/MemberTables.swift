import Networks
import Structures

/// One run's ensemble as exact site × element tables: values[m][s][e] is member m's
/// contribution of element `elements[e]` at site `sites[s]` in eV, its share of the
/// normalisation mean included, so Σ_s values[m][s][e_s] is member m's prediction.
///
/// The `sites` network applies the same dense layers to each site's features and sums the
/// outputs (`Architecture.sites`): nothing mixes sites, so the prediction is exactly additive
/// and the table is the network. `read` checks this on the data's own rows.
public struct MemberTables: Sendable {
    public let sites: [String]
    public let elements: [String]
    public let values: [[[Double]]]
    /// The largest |Σ table − network prediction| found by `read`'s check, eV (float rounding).
    public let additivityGap: Double

    public init(sites: [String], elements: [String], values: [[[Double]]], additivityGap: Double = 0) {
        self.sites = sites; self.elements = elements; self.values = values; self.additivityGap = additivityGap
    }

    /// The largest gap accepted between the table and the network (float32 rounding is ~1e-6 eV).
    public static let additivityTolerance = 1e-4

    /// Reads the tables off `members` (all `sites` models) for `elements`, then checks the sum of
    /// table entries against the network's own prediction on `checkRows` (element names per site).
    public static func read(_ members: [EnergyModel], elements: [String], checkRows: [[String]]) throws -> MemberTables {
        guard case .sites(let siteNames, _, _, _) = members.first?.modelDescription.encoding else {
            throw ScreenError("screening reads the sites model as tables; this run's model is \(members.first?.modelDescription.architecture.kind.rawValue ?? "empty") (image models are not screened yet)")
        }
        var values: [[[Double]]] = []
        var gap = 0.0
        for model in members {
            let offset = model.modelDescription.normalisation.mean / Double(siteNames.count)
            let table = try siteNames.indices.map { s in
                try elements.map { element in
                    let features = try model.encoder.siteFeatures(element: element, site: s)
                    return try model.scaledOutputs(EncodedStructure(values: features, labels: [siteNames[s]], elements: [element]))[0] + offset
                }
            }
            for row in checkRows.prefix(32) where row.count == siteNames.count {
                let indices = row.compactMap { elements.firstIndex(of: $0) }
                guard indices.count == row.count else { continue }
                let features = try row.enumerated().flatMap { try model.encoder.siteFeatures(element: $0.element, site: $0.offset) }
                let sum = indices.enumerated().reduce(0) { $0 + table[$1.offset][$1.element] }
                let network = try model.contributions(EncodedStructure(values: features, labels: siteNames, elements: row)).reduce(0, +)
                gap = max(gap, abs(network - sum))
            }
            values.append(table)
        }
        guard gap <= additivityTolerance else {
            throw ScreenError("the network is not additive over sites here (table and network differ by \(gap) eV > \(additivityTolerance)); it cannot be screened by tables")
        }
        return MemberTables(sites: siteNames, elements: elements, values: values, additivityGap: gap)
    }

    /// The ensemble mean table [s][e].
    public var meanTable: [[Double]] {
        sites.indices.map { s in elements.indices.map { e in values.map { $0[s][e] }.reduce(0, +) / Double(values.count) } }
    }

    /// Member predictions of an occupation given by element indices per site.
    public func memberPredictions(_ elementIndices: [Int]) -> [Double] {
        values.map { table in elementIndices.enumerated().reduce(0) { $0 + table[$1.offset][$1.element] } }
    }
}

/// A run to screen: its name (the adsorbate), its ensemble as a predictor (exact tables for a
/// `sites` run, `ImageEnsemblePredictor` for image and `atomic` runs), and the rows it was trained on.
public struct ScreenedRun {
    public let name: String
    public let predictor: any EnsemblePredictor
    /// Training rows as element names per site (in `sites` order) and their energies.
    public let rows: [[String]]
    public let energies: [Double]

    public init(name: String, predictor: any EnsemblePredictor, rows: [[String]], energies: [Double]) {
        self.name = name; self.predictor = predictor; self.rows = rows; self.energies = energies
    }

    public init(name: String, tables: MemberTables, rows: [[String]], energies: [Double]) {
        self.init(name: name, predictor: tables, rows: rows, energies: energies)
    }

    /// The member tables of a `sites` run (nil for image and `atomic` runs).
    public var tables: MemberTables? { predictor as? MemberTables }
    public var sites: [String] { predictor.sites }
    public var elements: [String] { predictor.elements }

    /// A `sites` run from its members and its site table (read with the options it was trained with).
    public static func load(name: String, members: [EnergyModel], table: SiteTable) throws -> ScreenedRun {
        guard case .sites(let siteNames, _, _, _) = members.first?.modelDescription.encoding else {
            return try ScreenedRun(name: name, tables: MemberTables.read(members, elements: [], checkRows: []), rows: [], energies: [])
        }
        guard table.siteNames == siteNames else {
            throw ScreenError("run \(name): its data's site columns \(table.siteNames) are not the model's sites \(siteNames)")
        }
        let elements = table.elements
        let rows = table.rows.map(\.elements)
        let tables = try MemberTables.read(members, elements: elements, checkRows: rows)
        return ScreenedRun(name: name, tables: tables, rows: rows, energies: table.rows.map(\.target))
    }

    /// Every member's prediction of `named` occupations (element names per site); nil for an
    /// occupation holding an element the run never saw.
    public func memberPredictions(named occupations: [[String]]) throws -> [[Double]?] {
        let own = try CandidateSpace(sites: sites, elements: elements)
        let known = occupations.map { $0.count == sites.count ? $0.compactMap { elements.firstIndex(of: $0) } : [] }
        let complete = known.indices.filter { known[$0].count == sites.count }
        let predicted = try predictor.memberPredictions(complete.map { known[$0] }, space: own)
        var result = [[Double]?](repeating: nil, count: occupations.count)
        for (k, c) in complete.enumerated() { result[c] = predicted[k] }
        return result
    }
}
