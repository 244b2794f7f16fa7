import Basics
import Foundation

/// A data set's structures by index: every rank needs each structure's energy (for splits,
/// normalisation and batches) but the structure itself only where it is trained or evaluated,
/// so a store may hold them all or read each on demand.
public protocol StructureStore: Sendable {
    var count: Int { get }
    /// Every symbol present, in order of atomic number (dummy atoms last).
    var species: [String] { get }
    func energy(_ index: Int) -> Double?
    /// The structure at `index`; reading it may fail with the file, line and field.
    func structure(_ index: Int) throws -> Structure
    /// The file the structures were read from, for messages; nil when made in memory.
    var file: String? { get }
}

extension StructureStore {
    /// The elements present, dummy atoms left out.
    public var elements: [String] { species.filter { !Structure.isDummy($0) } }
    /// No file by default (structures made in memory).
    public var file: String? { nil }
}

/// Structures held in memory (site tables, generated data, tests).
public struct LoadedStructures: StructureStore {
    public let structures: [Structure]
    public let species: [String]
    public let file: String?

    public init(_ structures: [Structure], file: String? = nil) {
        self.structures = structures
        self.file = file
        self.species = PeriodicTable.inTableOrder(structures.flatMap(\.symbols))
    }

    public var count: Int { structures.count }
    public func energy(_ index: Int) -> Double? { structures[index].energy }
    public func structure(_ index: Int) throws -> Structure { structures[index] }
}
