import Foundation

// Collectives that move whole `Codable` values (a model description, a list of metrics) as JSON
// bytes over the typed byte collectives: the one way structured values cross ranks, so no
// caller invents a packing of its own.

extension Communicator {
    /// JSON that also carries NaN and ±Inf (a diverged value must arrive as it was, not fail).
    private static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    private static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// Every rank sends one value; root gets them in rank order, other ranks get nil.
    public func gather<T: Codable>(_ value: T, root: Int) throws -> [T]? {
        let bytes = Array(try Communicator.encoder().encode(value))
        guard let gathered = try gatherv(bytes, root: root) else { return nil }
        return try gathered.enumerated().map { rank, bytes in
            do { return try Communicator.decoder().decode(T.self, from: Data(bytes)) }
            catch { throw MPIUsageError(call: "gather", reason: "rank \(rank) sent an undecodable \(T.self): \(error)") }
        }
    }

    /// Root's value arrives on every rank (other ranks pass nil, or any value, which is ignored).
    public func broadcast<T: Codable>(_ value: T?, root: Int) throws -> T {
        var bytes: [UInt8] = []
        if rank == root {
            guard let value else { throw MPIUsageError(call: "broadcast", reason: "the root has no \(T.self) to send") }
            bytes = Array(try Communicator.encoder().encode(value))
        }
        let received = try broadcastArray(bytes, root: root)
        do { return try Communicator.decoder().decode(T.self, from: Data(received)) }
        catch { throw MPIUsageError(call: "broadcast", reason: "undecodable \(T.self) from rank \(root): \(error)") }
    }
}
