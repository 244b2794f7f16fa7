import Networks
import Structures

/// An image (`ryczko`) or `atomic` run's ensemble as a screening predictor. Each occupation is
/// built into a structure through the run's site template, as `train` built the rows of its site
/// table (`SiteTemplate.structures(from:)`: the same geometry, labels and adsorbate marker),
/// encoded by the members' recorded encoding (the raster or patch settings the run trained with)
/// and evaluated by every member the run kept (`loadTrainedEnsemble` leaves out those the health
/// check excluded) in `BatchedEvaluation`'s passes, whose shape does not depend on the batch, so a
/// candidate's prediction is the same bit for bit whichever candidates share its passes.
public struct ImageEnsemblePredictor: EnsemblePredictor {
    public let sites: [String]
    public let elements: [String]
    let members: [EnergyModel]
    /// The run's template, labelled with its table's site columns.
    let template: SiteTemplate
    /// The group value its rows carried (the adsorbate marker is placed when there is one).
    let adsorbate: String?

    public var memberCount: Int { members.count }
    /// The model kind (`atomic`, `ryczko`, ...), as the run recorded it.
    public var kind: String { members.first?.modelDescription.architecture.kind.rawValue ?? "" }
    /// Whether the model's items are the atoms (each site's atom has its own contribution).
    public var itemsAreAtoms: Bool { members.first?.modelDescription.architecture.kind.decompositionMethod == .swapsAndAtomSplit }

    public init(members: [EnergyModel], sites: [String], elements: [String], template: SiteTemplate, adsorbate: String?) throws {
        guard let first = members.first else { throw ScreenError("the run kept no member to screen with") }
        if case .sites = first.modelDescription.encoding {
            throw ScreenError("a sites run is screened by its member tables, not by structures")
        }
        guard template.positions.count == sites.count else {
            throw ScreenError("the site template has \(template.positions.count) sites; the run's table has \(sites.count)")
        }
        if let known = first.encoder.knownElements, let unknown = elements.first(where: { !known.contains($0) }) {
            throw ScreenError("the run's table holds \(unknown), which its model was not trained on")
        }
        self.members = members; self.sites = sites; self.elements = elements
        self.template = template.relabelled(sites); self.adsorbate = adsorbate
    }

    /// The structure of an occupation given as indices into `space.elements`.
    func structure(_ occupation: [Int], space: CandidateSpace) throws -> Structure {
        try template.structure(elements: occupation.map { space.elements[$0] }, energy: nil, adsorbate: adsorbate)
    }

    public func memberPredictions(_ occupations: [[Int]], space: CandidateSpace) throws -> [[Double]] {
        try memberContributions(occupations, space: space).map { $0.contributions.map { $0.reduce(0, +) } }
    }

    /// Each occupation's item labels and every member's item contributions (eV; for `atomic`
    /// one item per atom, labelled by its site; for image models one item, the whole energy).
    public func memberContributions(_ occupations: [[Int]], space: CandidateSpace) throws -> [(labels: [String], contributions: [[Double]])] {
        guard let encoder = members.first?.encoder else { return [] }
        var batch = try BatchedEvaluation(members: members)
        var labels = [[String]](repeating: [], count: occupations.count)
        var contributions = [[[Double]]](repeating: [], count: occupations.count)
        func take(_ done: [(tag: Int, contributions: [[Double]])]) { for (tag, values) in done { contributions[tag] = values } }
        for (c, occupation) in occupations.enumerated() {
            let encoded = try encoder.encode(structure(occupation, space: space))
            labels[c] = encoded.labels
            take(try batch.add(encoded, tag: c))
        }
        take(try batch.finish())
        return zip(labels, contributions).map { ($0, $1) }
    }
}

extension ScreenedRun {
    /// An image or `atomic` run from its kept members, its site table (read with the options it
    /// was trained with) and the site template it recorded.
    public static func loadImages(name: String, members: [EnergyModel], table: SiteTable, template: SiteTemplate) throws -> ScreenedRun {
        let groups = Set(table.rows.compactMap(\.group))
        guard groups.count <= 1 else {
            throw ScreenError("run \(name) trained on several groups (\(groups.sorted().joined(separator: ", "))) without --group; screen one adsorbate's run")
        }
        let predictor = try ImageEnsemblePredictor(members: members, sites: table.siteNames, elements: table.elements,
                                                   template: template, adsorbate: table.rows.first?.group)
        return ScreenedRun(name: name, predictor: predictor, rows: table.rows.map(\.elements), energies: table.rows.map(\.target))
    }
}
