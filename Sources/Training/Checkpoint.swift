import Basics
import Foundation
import Networks

/// A member's training state at the end of an epoch: parameters, optimiser state, where it was.
///
/// File: the magic "SLCKPT01", an 8-byte little-endian length, a JSON header, then the
/// parameters and Adam's m and v as little-endian float32. Epoch orders are derived from
/// (seed, epoch), so the generator state is the seed and the epoch.
public struct Checkpoint: Equatable {
    public struct Header: Codable, Equatable {
        public var version = 1
        public var member: Int
        public var epoch: Int
        public var step: Int
        public var memberSeed: UInt64
        public var groupSize: Int
        public var parameterCount: Int
        public var optimizer: OptimizerKind
        public var learningRate: Float
    }
    public var header: Header
    public var parameters: [Float]
    public var optimizer: Optimizer

    /// `package`, not the implicit internal one, for the fuzz harness (`sitelens-fuzz`), which
    /// writes checkpoints in order to damage them.
    package init(header: Header, parameters: [Float], optimizer: Optimizer) {
        (self.header, self.parameters, self.optimizer) = (header, parameters, optimizer)
    }

    static let magic = Array("SLCKPT01".utf8)

    public func write(to url: URL) throws {
        var writer = ByteWriter()
        writer.append(bytes: Checkpoint.magic)
        writer.appendLengthPrefixed(try JSONEncoder().encode(header))
        for buffer in [parameters, optimizer.m, optimizer.v] { writer.append(floats: buffer) }
        try writeAtomically(writer.data, to: url)
    }

    public static func read(from url: URL) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw InputError(file: url.path, "cannot read the checkpoint")
        }
        do {
            var reader = ByteReader(data)
            guard try reader.readBytes(magic.count, "magic") == magic else {
                throw InputError(file: url.path, field: "magic", "not a SiteLens checkpoint")
            }
            let header: Header
            do { header = try JSONDecoder().decode(Header.self, from: Data(try reader.readLengthPrefixed("header"))) }
            catch let error as ByteFormatError { throw error }
            catch { throw InputError(file: url.path, field: "header", "unreadable: \(error)") }
            let n = header.parameterCount
            let buffers = header.optimizer == .adam ? 3 : 1
            guard n >= 0, n <= reader.remaining / 4, reader.remaining == 4 * n * buffers else {
                throw InputError(file: url.path, "\(reader.remaining) bytes follow the header; \(buffers) buffers of \(n) float32 values need \(4 * max(n, 0) * buffers)")
            }
            let parameters = try reader.readFloats(n, "parameters")
            var optimizer = Optimizer(kind: header.optimizer, learningRate: header.learningRate, parameterCount: n)
            optimizer.step = header.step
            if header.optimizer == .adam {
                optimizer.m = try reader.readFloats(n, "adam.m")
                optimizer.v = try reader.readFloats(n, "adam.v")
            }
            return Checkpoint(header: header, parameters: parameters, optimizer: optimizer)
        } catch let error as ByteFormatError {
            throw InputError(file: url.path, field: error.field, error.problem)
        }
    }
}
