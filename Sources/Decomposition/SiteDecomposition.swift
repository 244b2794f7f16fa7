import Networks
import Structures

/// A value per ensemble member, summarised: mean, standard deviation (n − 1), member count.
public struct Spread: Codable, Sendable, Equatable {
    public let mean: Double
    public let std: Double
    public let members: Int

    public init(_ values: [Double]) {
        let average = values.reduce(0, +) / Double(max(values.count, 1))
        members = values.count
        mean = average
        std = values.count > 1 ? (values.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
    }
}

/// One (site, element) cell of a decomposition.
public struct SiteElementEntry: Codable, Sendable, Equatable {
    public let site: String
    public let element: String
    /// The contribution c(s, e) in eV (for `atomic`: the mean ε of that element at that site).
    public let contribution: Spread
    /// For `atomic`: mean |ε| and how many atoms the mean is over (per member, equal for all).
    public let meanAbsolute: Spread?
    public let count: Int?
}

/// One site's summary: influence I(s) = mean over elements of |c(s, e)|, and the element spread
/// max_e c(s, e) − min_e c(s, e), which does not depend on where a network puts its constant offset.
public struct SiteSummary: Codable, Sendable, Equatable {
    public let site: String
    public let influence: Spread
    public let elementSpread: Spread
}

/// The ensemble-averaged decomposition of a model kind (Gariepy et al., ACS Catal. 2022).
public struct Decomposition: Codable, Sendable {
    public let kind: ModelKind
    /// "exact" for the additive models; "approximate" for `ryczko`, which is not additive.
    public let exactness: String
    public let method: String
    public let sites: [String]
    public let elements: [String]
    public let entries: [SiteElementEntry]
    public let summaries: [SiteSummary]

    public func entry(site: String, element: String) -> SiteElementEntry? {
        entries.first { $0.site == site && $0.element == element }
    }
}

/// Builds decompositions from trained members.
public enum SiteDecomposer {
    /// `sites` model: c(s, e) = scale·f([descriptors(e) ⊕ one-hot(s)]) + mean/S, read off each
    /// network alone (no data); contributions of a structure's sites sum to its prediction.
    public static func sites(_ members: [EnergyModel], elements: [String]) throws -> Decomposition {
        guard case .sites(let siteNames, _, _, _) = members[0].description.encoding else {
            throw NetworkError("the sites decomposition needs sites models")
        }
        var perMember: [[String: Double]] = []  // "site|element" → c
        for model in members {
            var table: [String: Double] = [:]
            for (s, site) in siteNames.enumerated() {
                for element in elements {
                    let features = try model.encoder.siteFeatures(element: element, site: s)
                    let output = model.scaledOutputs(EncodedStructure(values: features, labels: [site], elements: [element]))[0]
                    // Each of the S sites carries mean/S of the constant offset.
                    table["\(site)|\(element)"] = output + model.description.normalisation.mean / Double(siteNames.count)
                }
            }
            perMember.append(table)
        }
        return summarise(kind: .sites, exactness: "exact",
                         method: "c(s,e) = network output for [descriptors(e) + one-hot(s)], in eV, plus mean/S",
                         sites: siteNames, elements: elements, perMember: perMember, absolute: nil, counts: nil)
    }

    /// `atomic` model: each structure's per-atom contributions ε (they sum to its prediction),
    /// grouped by site label (or species) and element. `contributions[m][i]` are member m's
    /// item contributions for structure i, in item order.
    public static func atomic(_ members: [EnergyModel], structures: [Structure], contributions: [[[Double]]]) throws -> Decomposition {
        var siteOrder: [String] = [], elementsSeen: Set<String> = []
        var perMember: [[String: Double]] = [], absolute: [[String: Double]] = []
        var counts: [String: Int] = [:]
        for m in members.indices {
            var sum: [String: Double] = [:], absSum: [String: Double] = [:], n: [String: Int] = [:]
            for (i, structure) in structures.enumerated() {
                let labels = structure.groupingLabels
                let atoms = structure.realAtoms
                for (item, atom) in atoms.enumerated() {
                    let key = "\(labels[atom])|\(structure.symbols[atom])"
                    if !siteOrder.contains(labels[atom]) { siteOrder.append(labels[atom]) }
                    elementsSeen.insert(structure.symbols[atom])
                    let e = contributions[m][i][item]
                    sum[key, default: 0] += e
                    absSum[key, default: 0] += abs(e)
                    n[key, default: 0] += 1
                }
            }
            perMember.append(sum.reduce(into: [:]) { $0[$1.key] = $1.value / Double(n[$1.key]!) })
            absolute.append(absSum.reduce(into: [:]) { $0[$1.key] = $1.value / Double(n[$1.key]!) })
            counts = n
        }
        let elements = PeriodicTable.inTableOrder(elementsSeen)
        return summarise(kind: .atomic, exactness: "exact",
                         method: "mean per-atom contribution ε over all structures, by site label and element; Σ ε = predicted energy",
                         sites: siteOrder, elements: elements, perMember: perMember, absolute: absolute, counts: counts)
    }

    /// `ryczko` model (not additive), approximate: c(s, e) = E(image of one atom e at site s's
    /// position) − E(empty image), for the site positions of `reference`.
    public static func ryczko(_ members: [EnergyModel], reference: Structure, elements: [String]) throws -> Decomposition {
        let labels = reference.siteLabels ?? reference.symbols.indices.map { "atom\($0 + 1)" }
        let siteAtoms = reference.realAtoms
        var perMember: [[String: Double]] = []
        for model in members {
            let empty = try model.predict(Structure(symbols: [], positions: [], cell: reference.cell, pbc: reference.pbc))
            var table: [String: Double] = [:]
            for atom in siteAtoms {
                for element in elements {
                    let alone = Structure(symbols: [element], positions: [reference.positions[atom]], cell: reference.cell, pbc: reference.pbc)
                    table["\(labels[atom])|\(element)"] = try model.predict(alone) - empty
                }
            }
            perMember.append(table)
        }
        return summarise(kind: .ryczko, exactness: "approximate",
                         method: "APPROXIMATE: E(one atom of element e at site s) − E(empty image); the CNN is not additive",
                         sites: siteAtoms.map { labels[$0] }, elements: elements, perMember: perMember, absolute: nil, counts: nil)
    }

    static func summarise(kind: ModelKind, exactness: String, method: String, sites: [String], elements: [String],
                          perMember: [[String: Double]], absolute: [[String: Double]]?, counts: [String: Int]?) -> Decomposition {
        var entries: [SiteElementEntry] = []
        for site in sites {
            for element in elements {
                let key = "\(site)|\(element)"
                let values = perMember.compactMap { $0[key] }
                guard !values.isEmpty else { continue }
                entries.append(SiteElementEntry(site: site, element: element, contribution: Spread(values),
                                                meanAbsolute: absolute.map { a in Spread(a.compactMap { $0[key] }) },
                                                count: counts?[key]))
            }
        }
        let summaries = sites.map { site -> SiteSummary in
            var influences: [Double] = [], spreads: [Double] = []
            for table in perMember {
                let values = elements.compactMap { table["\(site)|\($0)"] }
                guard !values.isEmpty else { continue }
                influences.append(values.map(abs).reduce(0, +) / Double(values.count))
                spreads.append(values.max()! - values.min()!)
            }
            return SiteSummary(site: site, influence: Spread(influences), elementSpread: Spread(spreads))
        }
        return Decomposition(kind: kind, exactness: exactness, method: method, sites: sites, elements: elements,
                             entries: entries, summaries: summaries)
    }
}
