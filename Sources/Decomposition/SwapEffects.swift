import Basics
import Networks
import Structures

/// Partial dependence by swaps, for any model: c(s, e) = mean over structures (and over the
/// atoms that carry label s) of E(that atom made element e) − E(structure as is), centred over
/// the elements seen at site s.
///
/// Only what the data determines is computed: the change in the prediction when one element
/// replaces another at a site, with everything else as the data has it. The elements of a site
/// are those the data shows there; a site with one element has no swap effect and is left out.
public struct SwapEffects: Sendable {
    /// At most this many structures, evenly spaced through the data, are swapped.
    public var maxStructures = 200
    /// At most this many swapped variants go through a network in one forward call.
    public var variantsPerCall = 64

    public init() {}

    /// The sites in first-seen order and the elements each shows in the data.
    public static func siteElements(_ structures: [Structure]) -> (sites: [String], elements: [String: [String]]) {
        var order: [String] = [], seen: [String: Set<String>] = [:]
        for structure in structures {
            guard let labels = structure.siteLabels else { continue }
            for (label, symbol) in zip(labels, structure.symbols) where !Structure.isDummy(symbol) {
                if seen[label] == nil { order.append(label) }
                seen[label, default: []].insert(symbol)
            }
        }
        let elements = seen.mapValues { PeriodicTable.inTableOrder($0) }.filter { $0.value.count >= 2 }
        return (order.filter { elements[$0] != nil }, elements)
    }

    /// Which structures are swapped: all, or `maxStructures` evenly spaced through the data.
    func chosen(count: Int) -> [Int] {
        guard count > maxStructures, maxStructures > 0 else { return Array(0..<count) }
        return (0..<maxStructures).map { $0 * count / maxStructures }
    }

    /// The structure as is, then each swap of one atom at a decomposed site to another element
    /// its site shows, atom by atom in order: the variants whose energies `accumulate` reads.
    func variants(of structure: Structure, sites: Set<String>, elements: [String: [String]]) -> [Structure] {
        guard let labels = structure.siteLabels else { return [] }
        var variants: [Structure] = [structure]
        for atom in structure.realAtoms where sites.contains(labels[atom]) {
            for element in elements[labels[atom]] ?? [] where element != structure.symbols[atom] {
                var swapped = structure
                swapped.symbols[atom] = element
                variants.append(swapped)
            }
        }
        return variants
    }

    /// Per (site, element) sums over swaps of the centred effect and its square, and the swap count.
    struct Totals {
        var sum: [SiteElement: Double] = [:], sumSquares: [SiteElement: Double] = [:], count: [SiteElement: Int] = [:]

        /// One member's swap table: per (site, element), the centred mean effect, the standard
        /// deviation of the centred per-swap effect over structures and atoms, and the swap count.
        var table: [SiteElement: (mean: Double, structureStd: Double, count: Int)] {
            sum.reduce(into: [:]) { table, item in
                let n = Double(count[item.key] ?? 1), mean = item.value / n
                let variance = n > 1 ? max(0, (sumSquares[item.key] ?? 0) - n * mean * mean) / (n - 1) : 0
                table[item.key] = (mean, variance.squareRoot(), count[item.key] ?? 0)
            }
        }
    }

    /// Adds one structure's swaps to `totals`, from one member's `energies` of its `variants`
    /// (in that order; the caller checked the count).
    func accumulate(_ structure: Structure, energies: [Double], sites: Set<String>, elements: [String: [String]], into totals: inout Totals) {
        guard let labels = structure.siteLabels else { return }
        var next = 1
        for atom in structure.realAtoms where sites.contains(labels[atom]) {
            let site = labels[atom], list = elements[site] ?? []
            let effects = list.map { element -> Double in
                guard element != structure.symbols[atom] else { return 0 }
                defer { next += 1 }
                return energies[next] - energies[0]
            }
            let centre = effects.reduce(0, +) / Double(max(list.count, 1))
            for (element, effect) in zip(list, effects) {
                let key = SiteElement(site: site, element: element)
                totals.sum[key, default: 0] += effect - centre
                totals.sumSquares[key, default: 0] += (effect - centre) * (effect - centre)
                totals.count[key, default: 0] += 1
            }
        }
    }

    /// Predicted energies of `variants` (up to the constant offset, which cancels in a swap),
    /// several variants per forward call.
    func predictions(_ model: EnergyModel, _ variants: [Structure]) throws -> [Double] {
        var energies: [Double] = []
        energies.reserveCapacity(variants.count)
        var start = 0
        while start < variants.count {
            let batch = try variants[start..<min(start + max(variantsPerCall, 1), variants.count)].map { try model.encoder.encode($0) }
            let outputs = try model.scaledOutputs(EncodedStructure(values: batch.flatMap(\.values), labels: batch.flatMap(\.labels),
                                                               elements: batch.flatMap(\.elements)))
            energies += sumsPerStructure(outputs, itemCounts: batch.map(\.itemCount))
            start += batch.count
        }
        return energies
    }
}
