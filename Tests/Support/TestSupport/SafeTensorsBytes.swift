/// A safetensors file's JSON header text (padding included) and its data, for tests that read or
/// change one of them.
public func splitSafeTensors(_ bytes: [UInt8]) -> (header: String, data: [UInt8]) {
    let length = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    return (String(decoding: bytes[8..<(8 + length)], as: UTF8.self), Array(bytes[(8 + length)...]))
}

/// The safetensors file of `header` and `data` (`splitSafeTensors`'s inverse).
public func joinSafeTensors(header: String, data: [UInt8]) -> [UInt8] {
    var length = UInt64(header.utf8.count).littleEndian
    return withUnsafeBytes(of: &length) { Array($0) } + Array(header.utf8) + data
}
