import Basics
import Foundation
import Networks

/// A member's training state at the end of an epoch: parameters, optimiser state, where it was,
/// the fit policy's progress (`FitProgress`) with the best epoch's parameters, and the run it
/// belongs to.
///
/// File: "SLCKPT" and the format version as two digits ("03"), an 8-byte little-endian length,
/// a JSON header, the parameters, the optimiser's state buffers (`OptimizerKind
/// .stateBufferNames`: Adam's m and v) and, when the header's `keepsBest` says so, the best
/// epoch's parameters, as little-endian float32, and last the
/// CRC-32 (zlib's) of every byte before it as a little-endian UInt32. CRC-32 catches every
/// flipped bit and every burst of up to 32, which is what a damaged disk or copy does; it is
/// not a defence against forgery, which `verify` narrows by checking the header's claims.
/// Epoch orders are derived from (seed, epoch), so the generator state is the seed and the epoch.
public struct Checkpoint: Equatable {
    public struct Header: Codable, Equatable {
        public var member: Int
        public var epoch: Int
        public var step: Int
        public var memberSeed: UInt64
        public var groupSize: Int
        public var parameterCount: Int
        public var optimizer: OptimizerKind
        public var learningRate: Float
        /// The run that wrote the checkpoint: its data hash, seed and every option that shapes
        /// training, compared with the resuming run's (`RunRecord.mismatches`).
        public var run: RunRecord
        /// Best epoch, epochs since, plateau reductions, stopped (what `--keep`, `--patience`
        /// and `--lr-schedule` need to continue).
        public var fit: FitProgress
        /// Whether the best epoch's parameters follow the optimiser's state.
        public var keepsBest: Bool

        package init(member: Int, epoch: Int, step: Int, memberSeed: UInt64, groupSize: Int, parameterCount: Int,
                     optimizer: OptimizerKind, learningRate: Float, run: RunRecord, fit: FitProgress = FitProgress(), keepsBest: Bool = false) {
            (self.member, self.epoch, self.step, self.memberSeed, self.groupSize) = (member, epoch, step, memberSeed, groupSize)
            (self.parameterCount, self.optimizer, self.learningRate, self.run) = (parameterCount, optimizer, learningRate, run)
            (self.fit, self.keepsBest) = (fit, keepsBest)
        }
    }
    public var header: Header
    public var parameters: [Float]
    public var optimizer: Optimizer
    /// The best epoch's parameters, when `header.keepsBest`.
    public var bestParameters: [Float]?

    /// `package`, not the implicit internal one, for the fuzz harness (`sitelens-fuzz`), which
    /// writes checkpoints in order to damage them. The header's `keepsBest` follows `bestParameters`.
    package init(header: Header, parameters: [Float], optimizer: Optimizer, bestParameters: [Float]? = nil) {
        (self.header, self.parameters, self.optimizer, self.bestParameters) = (header, parameters, optimizer, bestParameters)
        self.header.keepsBest = bestParameters != nil
    }

    static let magic = Array("SLCKPT".utf8)
    /// The format this SiteLens writes and reads (version 1 had no checksum and no run, 2 no
    /// fit progress and best parameters).
    public static let formatVersion = 3
    static var versionDigits: [UInt8] { Array(String(format: "%02d", formatVersion).utf8) }

    public func write(to url: URL) throws {
        var writer = ByteWriter()
        writer.append(bytes: Checkpoint.magic + Checkpoint.versionDigits)
        writer.appendLengthPrefixed(try sitelensJSONEncoder().encode(header))
        for buffer in [parameters] + optimizer.stateBuffers + (bestParameters.map { [$0] } ?? []) { writer.append(floats: buffer) }
        writer.append(crc32(writer.bytes[...]))
        try writeAtomically(writer.data, to: url)
    }

    /// Reads a checkpoint whose magic, version and checksum are right and whose values are
    /// finite; what it claims about its run is checked by `verify`.
    public static func read(from url: URL) throws -> Checkpoint {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw InputError(file: url.path, "cannot read the checkpoint")
        }
        let bytes = [UInt8](data)
        do {
            var reader = ByteReader(bytes)
            guard try reader.readBytes(magic.count, "magic") == magic else {
                throw InputError(file: url.path, field: "magic", "not a SiteLens checkpoint")
            }
            let version = try reader.readBytes(2, "version")
            guard version == versionDigits else {
                throw InputError(file: url.path, field: "version", "format '\(String(decoding: version, as: UTF8.self))'; this SiteLens reads "
                                 + "checkpoints of format \(String(decoding: versionDigits, as: UTF8.self)) (start the run again without --resume)")
            }
            guard bytes.count >= reader.offset + 4 else { throw ByteFormatError(field: "checksum", "the file ends before its checksum") }
            var tail = ByteReader(bytes[(bytes.count - 4)...])
            let stored = try tail.readUInt32("checksum")
            let computed = crc32(bytes[..<(bytes.count - 4)])
            guard stored == computed else {
                throw InputError(file: url.path, field: "checksum", String(format: "CRC-32 %08x but the contents give %08x: the file is damaged", stored, computed))
            }
            let header: Header
            do { header = try sitelensJSONDecoder().decode(Header.self, from: Data(try reader.readLengthPrefixed("header"))) }
            catch let error as ByteFormatError { throw error }
            catch {
                let (field, problem) = decodingProblem(error)
                throw InputError(file: url.path, field: "header" + (field.map { ".\($0)" } ?? ""), problem)
            }
            return try payload(header, &reader, file: url.path)
        } catch let error as ByteFormatError {
            throw InputError(file: url.path, field: error.field, error.problem)
        }
    }

    /// The arrays after the header: as many as the header says, every value finite.
    private static func payload(_ header: Header, _ reader: inout ByteReader, file: String) throws -> Checkpoint {
        let n = header.parameterCount
        let stateNames = header.optimizer.stateBufferNames
        let buffers = 1 + stateNames.count + (header.keepsBest ? 1 : 0)
        let payloadBytes = reader.remaining - 4
        guard n >= 0, n <= payloadBytes / (4 * buffers), payloadBytes == 4 * n * buffers else {
            throw InputError(file: file, field: "parameterCount",
                             "\(payloadBytes) bytes follow the header; \(buffers) buffers of \(n) float32 values need \(4 * max(n, 0) * buffers)")
        }
        let parameters = try reader.readFloats(n, "parameters")
        var optimizer = Optimizer(kind: header.optimizer, learningRate: header.learningRate, parameterCount: n)
        optimizer.step = header.step
        let state = try stateNames.map { try reader.readFloats(n, $0) }
        optimizer.stateBuffers = state
        let best = header.keepsBest ? try reader.readFloats(n, "bestParameters") : nil
        for (field, weights) in [("parameters", parameters), ("bestParameters", best ?? [])] {
            if let bad = ModelDescription.firstUnacceptableWeight(weights) {
                throw InputError(file: file, field: field, "value \(bad) is \(weights[bad]); weights are finite and at most "
                                 + "\(ModelDescription.largestWeight) in size (what model files accept)")
            }
        }
        for (field, values) in zip(["parameters"] + stateNames, [parameters] + state) {
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw InputError(file: file, field: field, "value \(bad) is \(values[bad]); a checkpoint holds finite values only")
            }
        }
        if let impossible = optimizer.impossibleState {
            throw InputError(file: file, field: impossible.buffer, impossible.problem)
        }
        return Checkpoint(header: header, parameters: parameters, optimizer: optimizer, bestParameters: best)
    }

    /// Checks that this checkpoint, read from `file`, is member `member`'s of `run`, can go on
    /// to `epochs`, and claims no more than it can have done: an epoch in 1...epochs of the run
    /// that wrote it, at most `batchesPerEpoch` steps an epoch, the network's parameter count.
    /// Each failure names the field.
    package func verify(file: String, member: Int, run: RunRecord, epochs: Int, parameterCount: Int, batchesPerEpoch: Int) throws {
        func refuse(_ field: String, _ problem: String) -> InputError { InputError(file: file, field: "header.\(field)", problem) }
        let mismatches = run.mismatches(resuming: header.run)
        guard mismatches.isEmpty else {
            throw InputError(file: file, "the checkpoint belongs to another run:\n  " + mismatches.joined(separator: "\n  "))
        }
        guard header.member == member else { throw refuse("member", "\(header.member); this is member \(member)'s checkpoint file") }
        guard header.parameterCount == parameterCount else {
            throw refuse("parameterCount", "\(header.parameterCount); the model has \(parameterCount) parameters")
        }
        guard header.epoch >= 1, header.epoch <= header.run.epochs else {
            throw refuse("epoch", "\(header.epoch); a checkpoint of a run of \(header.run.epochs) epochs is at an epoch in 1...\(header.run.epochs)")
        }
        guard header.epoch <= epochs else {
            throw refuse("epoch", "\(header.epoch), past --epochs \(epochs): the run cannot continue to fewer epochs than it trained")
        }
        let (mostSteps, overflow) = header.epoch.multipliedReportingOverflow(by: batchesPerEpoch)
        guard !overflow, header.step >= 0, header.step <= mostSteps else {
            throw refuse("step", "\(header.step); \(header.epoch) epochs of \(batchesPerEpoch) batches take at most \(mostSteps) steps")
        }
        guard header.memberSeed == run.splitPlan.memberSeed(member) else {
            throw refuse("memberSeed", "\(header.memberSeed) is not member \(member)'s seed under --seed \(run.seed)")
        }
        guard header.optimizer == run.optimizer else { throw refuse("optimizer", "\(header.optimizer.rawValue); the run uses \(run.optimizer.rawValue)") }
        guard header.learningRate.isFinite, header.learningRate > 0 else { throw refuse("learningRate", "\(header.learningRate); must be positive") }
        guard header.groupSize >= 1 else { throw refuse("groupSize", "\(header.groupSize); a group has at least one rank") }
        if let (field, problem) = header.fit.problem(epoch: header.epoch) { throw refuse(field, problem) }
        let keepsBest = run.options["--keep"] == KeptWeights.best.rawValue && header.fit.bestEpoch != nil
        guard header.keepsBest == keepsBest else {
            throw refuse("keepsBest", "\(header.keepsBest); a run with --keep \(run.options["--keep"] ?? "(not used)") and "
                         + (header.fit.bestEpoch == nil ? "no best epoch yet" : "a best epoch") + (keepsBest ? " keeps" : " keeps no") + " best parameters")
        }
    }
}
