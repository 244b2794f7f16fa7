import Basics
import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header giving each
/// tensor's dtype, shape and data_offsets, then the raw little-endian data. SiteLens stores F32,
/// and records the data's CRC-32 in the metadata (`dataChecksumKey`; readers that do not know it
/// ignore metadata), so a damaged model file is refused instead of predicting from changed weights.
public enum SafeTensors {
    /// The metadata key of the tensor data's CRC-32 (zlib's, 8 lowercase hex digits). Files
    /// written before it existed have none and load unchecked.
    public static let dataChecksumKey = "data_crc32"

    public struct Tensor: Equatable, Sendable {
        public let name: String
        public let shape: [Int]
        public let values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            self.name = name
            self.shape = shape
            self.values = values
        }
    }

    /// Encodes tensors (in the given order) with optional string metadata.
    public static func encode(_ tensors: [Tensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        var offset = 0
        for tensor in tensors {
            precondition(tensor.shape.reduce(1, *) == tensor.values.count, "\(tensor.name): shape and values disagree")
            let bytes = tensor.values.count * 4
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + bytes]]
            offset += bytes
        }
        var data = ByteWriter()
        for tensor in tensors { data.append(floats: tensor.values) }
        var metadata = metadata
        metadata[dataChecksumKey] = checksumText(data.data)
        header["__metadata__"] = metadata
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad with spaces so the data starts 8-byte aligned, as the format allows.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var writer = ByteWriter()
        writer.appendLengthPrefixed(json)
        return writer.data + data.data
    }

    private static func checksumText(_ bytes: Data) -> String { String(format: "%08x", crc32(bytes)) }

    /// Decodes and validates a safetensors file's bytes; `file` names it in errors.
    public static func decode(_ data: Data, file: String) throws -> (tensors: [Tensor], metadata: [String: String]) {
        func bad(_ message: String) -> InputError { InputError(file: file, field: "safetensors", message) }
        var reader = ByteReader(data)
        let headerData: [UInt8]
        do { headerData = try reader.readLengthPrefixed("header") }
        catch { throw bad("the \(data.count)-byte file is too short for its header (\(error))") }
        guard let header = (try? JSONSerialization.jsonObject(with: Data(headerData))) as? [String: Any] else {
            throw bad("header is not a JSON object")
        }
        let dataLength = reader.remaining
        var metadata: [String: String] = [:]
        var spans: [(name: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                guard let dictionary = value as? [String: String] else { throw bad("__metadata__ must map strings to strings") }
                metadata = dictionary
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
                throw bad("tensor '\(name)' needs dtype, shape and two data_offsets")
            }
            guard dtype == "F32" else { throw bad("tensor '\(name)' has dtype \(dtype); SiteLens reads F32") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw bad("tensor '\(name)' has a negative dimension") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= dataLength else {
                throw bad("tensor '\(name)' data_offsets [\(begin), \(end)] fall outside the \(dataLength)-byte data")
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            let (bytes, bytesOverflow) = count.multipliedReportingOverflow(by: 4)
            guard !overflow, !bytesOverflow, bytes == end - begin else {
                let needs = overflow || bytesOverflow ? "more than \(Int.max)" : "\(bytes)"
                throw bad("tensor '\(name)' shape \(shape) needs \(needs) bytes but data_offsets span \(end - begin)")
            }
            spans.append((name, shape, begin, end))
        }
        spans.sort { $0.begin < $1.begin }
        var expected = 0
        for span in spans {
            guard span.begin == expected else {
                throw bad(span.begin < expected ? "tensor '\(span.name)' overlaps the tensor before it"
                                                : "a gap of \(span.begin - expected) bytes before tensor '\(span.name)'")
            }
            expected = span.end
        }
        guard expected == dataLength else { throw bad("\(dataLength - expected) bytes after the last tensor belong to none") }
        if let recorded = metadata[dataChecksumKey] {
            let computed = checksumText(data.suffix(dataLength))
            guard recorded == computed else {
                throw InputError(file: file, field: "__metadata__.\(dataChecksumKey)",
                                 "the tensor data's CRC-32 is \(computed) but the file records \(recorded): the file is damaged "
                                 + "(changed or partly copied); copy it again from the run folder or retrain")
            }
        }
        // Spans are sorted, contiguous and cover the data exactly (checked above): read in order.
        let tensors = try spans.map { span -> Tensor in
            do { return Tensor(name: span.name, shape: span.shape, values: try reader.readFloats((span.end - span.begin) / 4, span.name)) }
            catch { throw bad("\(error)") }
        }
        return (tensors, metadata)
    }
}
