import Basics
import Networks
import Structures

/// A (site, element) pair: the key of every per-cell table a decomposition is built from.
struct SiteElement: Hashable {
    let site: String
    let element: String
}

/// One (site, element) cell of a decomposition.
public struct SiteElementEntry: Codable, Sendable, Equatable {
    public let site: String
    public let element: String
    /// The contribution c(s, e) in eV (for per-atom splits: the mean ε − μ_e of that element at that site).
    public let contribution: Spread
    /// For per-atom splits: mean |ε| and how many atoms the mean is over (per member, equal for all);
    /// for swaps: how many swaps (structures × atoms carrying the label) the mean is over.
    public let meanAbsolute: Spread?
    public let count: Int?
    /// For swaps: the standard deviation over structures and atoms of the centred per-swap effect
    /// (0 for an additive model), averaged over members.
    public var structureStd: Double? = nil
    /// Each member's c(s, e), in the order of `Decomposition.memberNumbers` (nil: that member has none).
    public var memberValues: [Double?]? = nil
}

/// One site's summary: influence I(s) = mean over elements of |c(s, e)|, and the element spread
/// max_e c(s, e) − min_e c(s, e), which does not depend on where a network puts its constant offset.
public struct SiteSummary: Codable, Sendable, Equatable {
    public let site: String
    public let influence: Spread
    public let elementSpread: Spread
    /// Kendall's τ of the members' element orders at this site, averaged over member pairs
    /// (`RankAgreement`); nil with one member or one element.
    public var rankAgreement: Double? = nil
}

/// The `atomic` model's exact per-atom split of each prediction, reported relative to fitted
/// per-element reference energies so that ε is not mostly the constant mean/N.
public struct AtomicSplit: Codable, Sendable {
    public let references: ReferenceEnergies
    /// Per (site, element): mean of ε − μ_e, mean |ε − μ_e|, and the atom count.
    public let entries: [SiteElementEntry]
}

/// How exactly a decomposition's contributions are the model's own; the raw values are what
/// decomposition.csv, site-influence.csv and decomposition.json say.
public enum Exactness: String, Codable, Sendable {
    /// Read off the model (the `sites` network, the `atomic` per-atom split).
    case exact
    /// Effects of swapping elements on the data (any model).
    case partialDependence = "partial dependence"
}

/// The ensemble-averaged decomposition of a model kind (Gariepy et al., ACS Catal. 2022).
public struct Decomposition: Codable, Sendable {
    public let kind: ModelKind
    public let exactness: Exactness
    public let method: String
    public let sites: [String]
    public let elements: [String]
    public let entries: [SiteElementEntry]
    public let summaries: [SiteSummary]
    /// `atomic` only: the per-atom split of the predictions.
    public var perAtom: AtomicSplit? = nil
    /// `sites` only: the constant centring moved out of the table (the sum over sites of each
    /// site's mean over elements), so Σ_s c(s, e_s) + offset is a member's prediction. Where it
    /// sits is not identified; the centred table is.
    public var offset: Spread? = nil
    /// What the reader should know (structures without sites, sites left out).
    public var notes: [String] = []
    /// The member number of each column of the per-member tables (`SiteElementEntry.memberValues`).
    public var memberNumbers: [Int] = []

    public func entry(site: String, element: String) -> SiteElementEntry? {
        entries.first { $0.site == site && $0.element == element }
    }
}

/// Builds decompositions from trained members.
public enum SiteDecomposer {
    /// `sites` model: c(s, e) = scale·f([descriptors(e) ⊕ one-hot(s)]), read off each network
    /// alone (no data), then centred per site over `elements` (Method.md: only differences between
    /// elements at a site are identified); a structure's contributions plus `offset` sum to its prediction.
    public static func sites(_ members: [EnergyModel], elements: [String]) throws -> Decomposition {
        guard case .sites(let siteNames, _, _, _) = members.first?.modelDescription.encoding else {
            throw NetworkError("the sites decomposition needs sites models")
        }
        var perMember: [[SiteElement: Double]] = [], offsets: [Double] = []
        for model in members {
            var table: [SiteElement: Double] = [:]
            var offset = model.modelDescription.normalisation.mean
            for (s, site) in siteNames.enumerated() {
                let outputs = try elements.map { element in
                    let features = try model.encoder.siteFeatures(element: element, site: s)
                    return try model.scaledOutputs(EncodedStructure(values: features, labels: [site], elements: [element]))[0]
                }
                let centre = outputs.reduce(0, +) / Double(max(outputs.count, 1))
                offset += centre
                for (element, output) in zip(elements, outputs) { table[SiteElement(site: site, element: element)] = output - centre }
            }
            perMember.append(table)
            offsets.append(offset)
        }
        var decomposition = summarise(kind: members[0].modelDescription.architecture.kind, exactness: .exact,
                                      method: "c(s,e) = network output for [descriptors(e) + one-hot(s)], in eV, centred per site over the elements",
                                      sites: siteNames, elements: elements, perMember: perMember, absolute: nil, counts: nil)
        decomposition.offset = Spread(offsets)
        return decomposition
    }

    /// Any model, by swaps on the structures (partial dependence, `SwapEffects`): per member the
    /// centred c(s, e), then mean and spread over members. Only the swapped structures are read.
    /// All in this process: `SwapWork` measures, `swaps(_:measured:)` combines.
    public static func swaps(_ members: [EnergyModel], structures: StructureStore, settings: SwapEffects = SwapEffects(),
                             progress: ((_ structureCount: Int) -> ProgressMeter)? = nil) throws -> Decomposition {
        let work = try SwapWork(structures: structures, settings: settings)
        let meter = progress?(members.count * work.count)
        defer { meter?.finish() }
        let measurements = try work.measure(members, range: 0..<work.count, progress: meter)
        return try swaps(members, measured: SwapMeasurements(work: work, measurements: measurements))
    }

    /// The swap decomposition of structures held in memory.
    public static func swaps(_ members: [EnergyModel], structures: [Structure], settings: SwapEffects = SwapEffects()) throws -> Decomposition {
        try swaps(members, structures: LoadedStructures(structures), settings: settings)
    }

    /// `atomic` model: the swap decomposition, plus each structure's exact per-atom ε (they sum
    /// to its prediction) relative to per-element reference energies, grouped by site label (or
    /// species) and element. `contributions[m][i]` are member m's item contributions for structure i.
    public static func atomic(_ members: [EnergyModel], structures: StructureStore, contributions: [[[Double]]],
                              progress: ((_ structureCount: Int) -> ProgressMeter)? = nil) throws -> Decomposition {
        var decomposition = try swaps(members, structures: structures, progress: progress)
        decomposition.perAtom = try atomicSplit(structures: structures, contributions: contributions)
        return decomposition
    }

    /// `atomic` model, structures held in memory.
    public static func atomic(_ members: [EnergyModel], structures: [Structure], contributions: [[[Double]]]) throws -> Decomposition {
        try atomic(members, structures: LoadedStructures(structures), contributions: contributions)
    }

    /// `ryczko` model (not additive): the swap decomposition.
    public static func ryczko(_ members: [EnergyModel], structures: StructureStore) throws -> Decomposition {
        try swaps(members, structures: structures)
    }

    /// `ryczko` model, structures held in memory.
    public static func ryczko(_ members: [EnergyModel], structures: [Structure]) throws -> Decomposition {
        try swaps(members, structures: LoadedStructures(structures))
    }

    /// ε − μ_e per (site, element), μ fitted to the targets (or, without them, to the ensemble mean).
    /// Structures are read one at a time (a store may hold more than memory does).
    static func atomicSplit(structures: StructureStore, contributions: [[[Double]]]) throws -> AtomicSplit {
        let indices = 0..<structures.count
        let targets = indices.compactMap(structures.energy)
        let references = targets.count == structures.count
            ? try ReferenceEnergies(structures: structures, energies: targets, fittedTo: "targets")
            : try ReferenceEnergies(structures: structures, energies: indices.map { i in
                contributions.map { $0[i].reduce(0, +) }.reduce(0, +) / Double(max(contributions.count, 1))
            }, fittedTo: "ensemble-mean predictions")
        var siteOrder: [String] = [], elementsSeen: Set<String> = []
        var perMember: [[SiteElement: Double]] = [], absolute: [[SiteElement: Double]] = [], counts: [SiteElement: Int] = [:]
        // Per member: sums of ε − μ_e and |ε − μ_e| per (site, element); each structure is read
        // once and serves every member.
        var sum = [[SiteElement: Double]](repeating: [:], count: contributions.count), absSum = sum
        for i in indices {
            let structure = try structures.structure(i)
            let labels = structure.groupingLabels
            let atoms = structure.realAtoms
            for memberContributions in contributions where memberContributions[i].count != atoms.count {
                throw DecompositionError("structure \(i + 1): \(memberContributions[i].count) contributions for \(atoms.count) atoms")
            }
            for (item, atom) in atoms.enumerated() {
                let key = SiteElement(site: labels[atom], element: structure.symbols[atom])
                if !siteOrder.contains(labels[atom]) { siteOrder.append(labels[atom]) }
                elementsSeen.insert(structure.symbols[atom])
                counts[key, default: 0] += 1
                for (m, memberContributions) in contributions.enumerated() {
                    let e = memberContributions[i][item] - (references.values[structure.symbols[atom]] ?? 0)
                    sum[m][key, default: 0] += e
                    absSum[m][key, default: 0] += abs(e)
                }
            }
        }
        let mean = { (totals: [SiteElement: Double]) in totals.reduce(into: [SiteElement: Double]()) { $0[$1.key] = $1.value / Double(counts[$1.key] ?? 1) } }
        perMember = sum.map(mean)
        absolute = absSum.map(mean)
        let table = summarise(kind: .atomic, exactness: .exact, method: "mean per-atom ε − μ_e", sites: siteOrder,
                              elements: PeriodicTable.inTableOrder(elementsSeen), perMember: perMember, absolute: absolute, counts: counts)
        return AtomicSplit(references: references, entries: table.entries)
    }

    static func summarise(kind: ModelKind, exactness: Exactness, method: String, sites: [String], elements: [String],
                          perMember: [[SiteElement: Double]], absolute: [[SiteElement: Double]]?, counts: [SiteElement: Int]?,
                          structureStd: [SiteElement: Double]? = nil) -> Decomposition {
        var entries: [SiteElementEntry] = []
        for site in sites {
            for element in elements {
                let key = SiteElement(site: site, element: element)
                let values = perMember.compactMap { $0[key] }
                guard !values.isEmpty else { continue }
                entries.append(SiteElementEntry(site: site, element: element, contribution: Spread(values),
                                                meanAbsolute: absolute.map { a in Spread(a.compactMap { $0[key] }) },
                                                count: counts?[key], structureStd: structureStd?[key], memberValues: perMember.map { $0[key] }))
            }
        }
        let summaries = sites.map { site -> SiteSummary in
            var influences: [Double] = [], spreads: [Double] = []
            for table in perMember {
                let values = elements.compactMap { table[SiteElement(site: site, element: $0)] }
                guard !values.isEmpty else { continue }
                influences.append(values.map(abs).reduce(0, +) / Double(values.count))
                spreads.append((values.max() ?? 0) - (values.min() ?? 0))
            }
            let byElement = perMember.map { table in
                Dictionary(uniqueKeysWithValues: elements.compactMap { e in table[SiteElement(site: site, element: e)].map { (e, $0) } })
            }
            return SiteSummary(site: site, influence: Spread(influences), elementSpread: Spread(spreads),
                               rankAgreement: RankAgreement.meanTau(byElement, elements: elements))
        }
        return Decomposition(kind: kind, exactness: exactness, method: method, sites: sites, elements: elements,
                             entries: entries, summaries: summaries)
    }
}
