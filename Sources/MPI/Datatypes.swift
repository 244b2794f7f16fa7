import CMPI

/// An element type with a matching MPI datatype: only these reach MPI's buffer calls.
public protocol MPIElement {
    /// The MPI datatype describing one value of this type.
    static var mpiDatatype: MPI_Datatype { get }
}

/// An element type MPI can reduce with sum, max and min.
public protocol MPIReducible: MPIElement, Comparable {}

/// An element type whose sum over ranks MPI computes: with MPI_SUM for MPI's own number types,
/// with an operation of SiteLens's own for the rest (`BFloat16`).
public protocol MPISummable: MPIElement, BitwiseCopyable {
    /// The MPI operation that adds two values of this type.
    static var mpiSum: MPI_Op { get }
}

extension Float: MPISummable { public static var mpiSum: MPI_Op { cmpi_op_sum() } }
extension Double: MPISummable { public static var mpiSum: MPI_Op { cmpi_op_sum() } }

extension Float: MPIReducible { public static var mpiDatatype: MPI_Datatype { cmpi_float() } }
extension Double: MPIReducible { public static var mpiDatatype: MPI_Datatype { cmpi_double() } }
extension Int32: MPIReducible { public static var mpiDatatype: MPI_Datatype { cmpi_int32() } }
extension Int64: MPIReducible { public static var mpiDatatype: MPI_Datatype { cmpi_int64() } }
extension UInt64: MPIReducible { public static var mpiDatatype: MPI_Datatype { cmpi_uint64() } }
/// Bytes move (broadcast, gather) but are not reduced: MPI does not define sums of MPI_BYTE.
extension UInt8: MPIElement { public static var mpiDatatype: MPI_Datatype { cmpi_byte() } }

/// The reductions SiteLens uses.
public enum ReductionOp: String, CaseIterable, Sendable {
    case sum, max, min

    var handle: MPI_Op {
        switch self {
        case .sum: return cmpi_op_sum()
        case .max: return cmpi_op_max()
        case .min: return cmpi_op_min()
        }
    }
}

/// MPI's own name and size of a datatype (MPI_Type_get_name, MPI_Type_size), to check the mapping.
public func datatypeNameAndSize(_ datatype: MPI_Datatype) throws -> (name: String, size: Int) {
    var buffer = [CChar](repeating: 0, count: 256)
    var length: Int32 = 0
    try check(MPI_Type_get_name(datatype, &buffer, &length), "MPI_Type_get_name")
    var size: Int32 = 0
    try check(MPI_Type_size(datatype, &size), "MPI_Type_size")
    return (String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self), Int(size))
}
