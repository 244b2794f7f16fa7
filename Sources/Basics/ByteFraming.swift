import Foundation

/// Writes little-endian binary formats (model files, checkpoints, messages between ranks): the
/// one place SiteLens lays out bytes.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func append(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    public mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    public mutating func append(_ value: UInt16) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    public mutating func append<S: Sequence>(bytes more: S) where S.Element == UInt8 {
        bytes += more
    }

    /// float32 values, each little-endian: converted in one pass and appended in one copy (a
    /// value at a time is slow for images of millions of values).
    public mutating func append(floats: [Float]) {
        floats.map { $0.bitPattern.littleEndian }.withUnsafeBytes { bytes += $0 }
    }

    /// A length (UInt64) and then the bytes: a field a reader can skip or bound.
    public mutating func appendLengthPrefixed<S: Collection>(_ more: S) where S.Element == UInt8 {
        append(UInt64(more.count))
        bytes += more
    }

    public var data: Data { Data(bytes) }
}

/// A binary format that does not hold what it claims: which field, and what is wrong.
public struct ByteFormatError: Error, CustomStringConvertible, Sendable {
    public let field: String
    public let problem: String
    public init(field: String, _ problem: String) {
        self.field = field
        self.problem = problem
    }
    public var description: String { "\(field): \(problem)" }
}

/// Reads little-endian binary formats with every read bounds-checked: a short or corrupt input
/// throws naming the field, never traps or reads past the end.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    public private(set) var offset = 0

    public init<S: Sequence>(_ bytes: S) where S.Element == UInt8 { self.bytes = Array(bytes) }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ count: Int, _ field: String) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw ByteFormatError(field: field, "needs \(count) bytes at offset \(offset), only \(remaining) remain")
        }
        defer { offset += count }
        return bytes[offset..<(offset + count)]
    }

    public mutating func readUInt64(_ field: String) throws -> UInt64 {
        try take(8, field).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    public mutating func readUInt32(_ field: String) throws -> UInt32 {
        try take(4, field).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    public mutating func readUInt16(_ field: String) throws -> UInt16 {
        try take(2, field).reversed().reduce(UInt16(0)) { $0 << 8 | UInt16($1) }
    }

    /// A count stored as UInt64, checked to fit in what remains when each unit is `unitSize` bytes.
    public mutating func readCount(_ field: String, unitSize: Int = 1) throws -> Int {
        let value = try readUInt64(field)
        guard unitSize > 0, value <= UInt64(remaining / unitSize) else {
            throw ByteFormatError(field: field, "count \(value) of \(unitSize)-byte units runs past the end (\(remaining) bytes remain)")
        }
        return Int(value)
    }

    public mutating func readBytes(_ count: Int, _ field: String) throws -> [UInt8] {
        Array(try take(count, field))
    }

    /// `count` little-endian float32 values.
    public mutating func readFloats(_ count: Int, _ field: String) throws -> [Float] {
        guard count >= 0, count <= remaining / 4 else {
            throw ByteFormatError(field: field, "needs \(count) float32 values at offset \(offset), only \(remaining) bytes remain")
        }
        let slice = try take(4 * count, field)
        var values = [Float](repeating: 0, count: count)
        slice.withUnsafeBytes { raw in
            for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        }
        return values
    }

    /// A field written by `appendLengthPrefixed`.
    public mutating func readLengthPrefixed(_ field: String) throws -> [UInt8] {
        try readBytes(try readCount(field), field)
    }
}
