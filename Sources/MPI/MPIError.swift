import CMPI

/// A failed MPI call: which call, MPI's error code and MPI_Error_string's text for it.
public struct MPIError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let code: Int32
    public let message: String

    public var description: String { "\(call) failed (MPI error \(code)): \(message)" }

    /// MPI_Error_string's text for `code`.
    static func text(for code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        guard MPI_Error_string(code, &buffer, &length) == cmpi_success() else {
            return "unknown MPI error"
        }
        return textBeforeNul(buffer)
    }
}

/// A call that SiteLens refuses before MPI sees it (counts, roots, sizes).
public struct MPIUsageError: Error, CustomStringConvertible, Equatable {
    public let call: String
    public let reason: String
    public var description: String { "\(call): \(reason)" }
}

/// Checks the return code of an MPI call; every call in this module goes through it.
@inline(__always)
func check(_ code: Int32, _ call: @autoclosure () -> String) throws {
    if code != cmpi_success() {
        throw MPIError(call: call(), code: code, message: MPIError.text(for: code))
    }
}

/// Converts a Swift count to MPI's Int32, refusing what does not fit.
@inline(__always)
func mpiCount(_ count: Int, _ call: String) throws -> Int32 {
    guard count >= 0, count <= Int(Int32.max) else {
        throw MPIUsageError(call: call, reason: "count \(count) does not fit MPI's 32-bit count")
    }
    return Int32(count)
}

/// The text of a C character buffer up to its terminating NUL (MPI's lengths may count the NUL).
func textBeforeNul(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
