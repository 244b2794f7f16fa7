import CZlib

/// zlib's CRC-32 of `bytes`.
public func crc32<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 {
    var crc = CZlib.crc32(0, nil, 0)
    let array = Array(bytes)
    array.withUnsafeBufferPointer { buffer in
        // zlib takes lengths as UInt32: feed large buffers in parts.
        var offset = 0
        while offset < buffer.count {
            let length = min(buffer.count - offset, 1 << 30)
            crc = CZlib.crc32(crc, buffer.baseAddress! + offset, uInt(length))
            offset += length
        }
    }
    return UInt32(truncatingIfNeeded: crc)
}
