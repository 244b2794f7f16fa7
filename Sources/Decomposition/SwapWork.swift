import Basics
import Networks
import Structures

/// The swap decomposition in two steps, so that its forward passes can be shared out (over MPI
/// ranks, by a caller that owns them) while this module stays one process: `SwapWork` names
/// the structures to swap and measures every member's energies of their variants for any range
/// of them (`measure`); `SiteDecomposer.swaps(_:measured:)` combines the measurements.
///
/// The result does not depend on how the range was split: each structure's variants go through
/// a network in the same batches wherever they are measured, and the combine adds them in
/// structure order, exactly as one process does (bit for bit).
public struct SwapWork: Sendable {
    public let settings: SwapEffects
    /// The data positions of the structures chosen for swaps (`SwapEffects.chosen`).
    let chosen: [Int]
    /// The chosen structures that carry site labels, in data order: the ones swapped.
    let labelled: [Structure]
    /// The data positions of the chosen structures without site labels (not swapped).
    let unlabelled: [Int]
    /// The decomposed sites (first-seen order) and the elements each shows.
    let sites: [String]
    let elements: [String: [String]]

    /// Reads the chosen structures of `structures` (every rank reading the same data makes the same work).
    public init(structures: StructureStore, settings: SwapEffects = SwapEffects()) throws {
        self.settings = settings
        chosen = settings.chosen(count: structures.count)
        let sample = try chosen.map { (index: $0, structure: try structures.structure($0)) }
        labelled = sample.filter { $0.structure.siteLabels != nil }.map(\.structure)
        unlabelled = sample.filter { $0.structure.siteLabels == nil }.map(\.index)
        (sites, elements) = SwapEffects.siteElements(labelled)
    }

    /// How many structures are swapped: the range `measure` takes is within 0..<count.
    public var count: Int { labelled.count }

    /// Every member's energies of each variant of the swapped structures in `range`, one
    /// measurement per structure in order. `progress` advances once per structure and member.
    public func measure(_ members: [EnergyModel], range: Range<Int>, progress: ProgressMeter? = nil) throws -> [SwapMeasurement] {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw DecompositionError("swap range \(range) is outside the \(count) swapped structures")
        }
        let siteSet = Set(sites)
        return try range.map { position in
            let variants = settings.variants(of: labelled[position], sites: siteSet, elements: elements)
            let energies = try members.map { model -> [Double] in
                defer { progress?.advance() }
                return try settings.predictions(model, variants)
            }
            return SwapMeasurement(structure: position, energies: energies)
        }
    }
}

/// One swapped structure measured: `energies[m]` is member m's energy of each of its variants
/// (the structure as is, then each swap, in `SwapEffects.variants` order). Codable so that it
/// can travel between processes.
public struct SwapMeasurement: Codable, Sendable, Equatable {
    /// The structure's position among the swapped structures of its `SwapWork`.
    public let structure: Int
    public var energies: [[Double]]
}

/// A swap work and its measurements over every swapped structure (gathered from wherever they
/// were measured): what `SiteDecomposer.swaps(_:measured:)` combines.
public struct SwapMeasurements: Sendable {
    public let work: SwapWork
    public let measurements: [SwapMeasurement]

    public init(work: SwapWork, measurements: [SwapMeasurement]) {
        self.work = work
        self.measurements = measurements
    }

    /// Only the members at `positions` (e.g. those an ensemble kept), in that order.
    public func members(_ positions: [Int]) throws -> SwapMeasurements {
        let selected = try measurements.map { measurement in
            guard positions.allSatisfy(measurement.energies.indices.contains) else {
                throw DecompositionError("members \(positions) asked of swap measurements of \(measurement.energies.count) members")
            }
            return SwapMeasurement(structure: measurement.structure, energies: positions.map { measurement.energies[$0] })
        }
        return SwapMeasurements(work: work, measurements: selected)
    }
}

extension SiteDecomposer {
    /// The swap decomposition (`swaps(_:structures:)`) from measurements made elsewhere: every
    /// swapped structure's, for every member in `members` order. The measurements are combined
    /// in structure order whatever order they arrive in.
    public static func swaps(_ members: [EnergyModel], measured: SwapMeasurements) throws -> Decomposition {
        let work = measured.work
        let byStructure = measured.measurements.sorted { $0.structure < $1.structure }
        guard byStructure.map(\.structure) == Array(0..<work.count) else {
            throw DecompositionError("swap measurements of structures \(byStructure.map(\.structure)) for \(work.count) swapped structures")
        }
        let siteSet = Set(work.sites)
        var totals = [SwapEffects.Totals](repeating: SwapEffects.Totals(), count: members.count)
        for (structure, measurement) in zip(work.labelled, byStructure) {
            let variants = work.settings.variants(of: structure, sites: siteSet, elements: work.elements).count
            guard measurement.energies.count == members.count, measurement.energies.allSatisfy({ $0.count == variants }) else {
                throw DecompositionError("swapped structure \(measurement.structure + 1): energies of \(measurement.energies.map(\.count)) variants "
                                         + "for \(members.count) members of \(variants)")
            }
            for m in members.indices {
                work.settings.accumulate(structure, energies: measurement.energies[m], sites: siteSet, elements: work.elements, into: &totals[m])
            }
        }
        return combined(members, work: work, tables: totals.map(\.table))
    }

    /// Per member the centred c(s, e), then mean and spread over members, with the notes of what was left out.
    private static func combined(_ members: [EnergyModel], work: SwapWork,
                                 tables: [[SiteElement: (mean: Double, structureStd: Double, count: Int)]]) -> Decomposition {
        let kind = members.first?.modelDescription.architecture.kind ?? .sites
        var perMember: [[SiteElement: Double]] = [], structureStd: [SiteElement: Double] = [:], counts: [SiteElement: Int] = [:]
        for table in tables {
            perMember.append(table.mapValues(\.mean))
            for (key, value) in table {
                structureStd[key, default: 0] += value.structureStd / Double(members.count)
                counts[key] = value.count
            }
        }
        var decomposition = summarise(kind: kind, exactness: .partialDependence,
                                      method: "c(s,e) = mean over \(work.count) structures and the atoms labelled s of E(e at that atom) − E(as is), centred over the elements seen at s",
                                      sites: work.sites, elements: PeriodicTable.inTableOrder(work.elements.values.flatMap { $0 }),
                                      perMember: perMember, absolute: nil, counts: counts, structureStd: structureStd)
        let unlabelled = work.unlabelled.map { "\($0 + 1)" }
        if !unlabelled.isEmpty {
            decomposition.notes.append("\(unlabelled.count) of \(work.chosen.count) structures have no site labels (no 'site' column, or the --site-rule "
                                       + "found none) and were not swapped: structures \(unlabelled.prefix(10).joined(separator: ", "))\(unlabelled.count > 10 ? ", …" : "")")
        }
        if work.sites.isEmpty { decomposition.notes.append("no site shows two or more elements in the data: nothing to decompose (see --site-rule)") }
        return decomposition
    }
}
