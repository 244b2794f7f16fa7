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

    static let magic = Array("SLCKPT01".utf8)

    public static func url(in runDirectory: URL, member: Int) -> URL {
        runDirectory.appendingPathComponent("checkpoints/member-\(member).ckpt")
    }

    public func write(to url: URL) throws {
        var data = Data(Checkpoint.magic)
        let json = try JSONEncoder().encode(header)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for buffer in [parameters, optimizer.m, optimizer.v] {
            buffer.withUnsafeBufferPointer { b in
                for value in b { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            }
        }
        try writeAtomically(data, to: url)
    }

    public static func read(from url: URL) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw InputError(file: url.path, "cannot read the checkpoint")
        }
        guard data.count >= 16, Array(data.prefix(8)) == magic else {
            throw InputError(file: url.path, field: "magic", "not a SiteLens checkpoint")
        }
        let length = data[8..<16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard length <= data.count - 16 else { throw InputError(file: url.path, field: "header", "header runs past the end") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: data.subdata(in: 16..<(16 + length))) }
        catch { throw InputError(file: url.path, field: "header", "unreadable: \(error)") }
        let n = header.parameterCount
        let buffers = header.optimizer == .adam ? 3 : 1
        guard data.count == 16 + length + 4 * n * buffers else {
            throw InputError(file: url.path, "expected \(16 + length + 4 * n * buffers) bytes, found \(data.count)")
        }
        func floats(_ index: Int) -> [Float] {
            data.withUnsafeBytes { raw in
                (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 16 + length + 4 * (index * n + $0), as: UInt32.self))) }
            }
        }
        var optimizer = Optimizer(kind: header.optimizer, learningRate: header.learningRate, parameterCount: n)
        optimizer.step = header.step
        if header.optimizer == .adam { optimizer.m = floats(1); optimizer.v = floats(2) }
        return Checkpoint(header: header, parameters: floats(0), optimizer: optimizer)
    }
}
