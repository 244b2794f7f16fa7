import Basics
import CZlib
import Foundation

/// NumPy's `.npy` format (version 1.0) for little-endian float32 arrays.
public enum NPY {
    /// The bytes of a float32 array of `shape` in C order.
    public static func encode(shape: [Int], values: [Float]) -> Data {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple
        // of 64 and ended by a newline, as the format asks.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var writer = ByteWriter()
        writer.append(bytes: [0x93] + Array("NUMPY".utf8) + [1, 0])
        writer.append(UInt16(header.utf8.count))
        writer.append(bytes: header.utf8)
        writer.append(floats: values)
        return writer.data
    }

    /// Writes images as one `[N, C, H, W]` float32 array, atomically.
    public static func write(_ images: [RasterImage], to url: URL) throws {
        guard let first = images.first else { throw RasterError(field: "out", message: "no images to write") }
        var values: [Float] = []
        values.reserveCapacity(images.count * first.pixels.count)
        for image in images { values += image.pixels }
        try writeAtomically(encode(shape: [images.count, first.channels, first.height, first.width], values: values), to: url)
    }
}

/// Grayscale PNG files, compressed with zlib.
public enum PNG {
    /// An 8-bit grayscale PNG of `width` × `height` pixels, rows top to bottom.
    public static func grayscale(width: Int, height: Int, pixels: [UInt8]) throws -> Data {
        precondition(pixels.count == width * height)
        var raw = [UInt8]()
        raw.reserveCapacity((width + 1) * height)
        for y in 0..<height {
            raw.append(0)  // filter type "none" for each row
            raw += pixels[(y * width)..<((y + 1) * width)]
        }
        var compressedLength = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedLength))
        let status = compress2(&compressed, &compressedLength, raw, uLong(raw.count), 6)
        guard status == Z_OK else { throw RasterError(field: "preview", message: "zlib compress2 failed with status \(status)") }

        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        func chunk(_ type: String, _ body: [UInt8]) {
            let typed = Array(type.utf8) + body
            png.append(contentsOf: bigEndian(UInt32(body.count)))
            png.append(contentsOf: typed)
            png.append(contentsOf: bigEndian(UInt32(crc32(0, typed, uInt(typed.count)))))
        }
        chunk("IHDR", bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, 0, 0, 0, 0])
        chunk("IDAT", Array(compressed.prefix(Int(compressedLength))))
        chunk("IEND", [])
        return png
    }

    /// Tiles the first images (all channels summed) side by side, each scaled to its own maximum.
    public static func preview(_ images: [RasterImage], maxImages: Int = 4) throws -> Data {
        let shown = Array(images.prefix(maxImages))
        guard let first = shown.first else { throw RasterError(field: "preview", message: "no images to show") }
        let gap = 2
        let width = shown.count * first.width + (shown.count - 1) * gap
        var pixels = [UInt8](repeating: 255, count: width * first.height)
        for (k, image) in shown.enumerated() {
            var summed = [Float](repeating: 0, count: image.height * image.width)
            for c in 0..<image.channels {
                for i in 0..<summed.count { summed[i] += image.pixels[c * summed.count + i] }
            }
            let peak = max(summed.max() ?? 0, 1e-12)
            for y in 0..<image.height {
                for x in 0..<image.width {
                    // Dark atoms on white, as the seed's figures show densities.
                    let level = 255 - Int((summed[y * image.width + x] / peak * 255).rounded())
                    pixels[y * width + k * (first.width + gap) + x] = UInt8(clamping: level)
                }
            }
        }
        return try grayscale(width: width, height: first.height, pixels: pixels)
    }

    /// PNG's own integers are big-endian (unlike every other SiteLens format, see `ByteWriter`).
    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
    }
}
