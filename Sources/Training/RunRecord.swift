import Basics
import Foundation
import Networks

/// What defines a training run, kept as `run.json` in its folder: the data (by content hash),
/// the seed, the model and its input encoding, the optimiser and the ensemble. `--resume` must
/// match all of it; only the number of epochs and the learning rate may change. `complete`
/// turns true only when every member and output of the run has been written, so a half-written
/// or interrupted run is never read as a finished ensemble.
public struct RunRecord: Codable, Sendable, Equatable {
    public var version = 1
    public var dataFile: String
    public var dataHash: String
    public var seed: UInt64
    public var architecture: Architecture
    public var encoding: InputEncoding
    public var optimizer: OptimizerKind
    public var ensemble: Int
    public var batchSize: Int
    public var validationFraction: Double
    public var testFraction: Double
    public var epochs: Int
    /// Structures read from the data file (a different selection of the same file differs here).
    public var structureCount: Int
    public var complete = false

    public init(plan: TrainingPlan, architecture: Architecture, encoding: InputEncoding, dataFile: String, dataHash: String,
                structureCount: Int) {
        self.structureCount = structureCount
        self.testFraction = plan.testFraction
        self.dataFile = dataFile
        self.dataHash = dataHash
        self.seed = plan.seed
        self.architecture = architecture
        self.encoding = encoding
        self.optimizer = plan.optimizer
        self.ensemble = plan.ensemble
        self.batchSize = plan.batchSize
        self.validationFraction = plan.validationFraction
        self.epochs = plan.epochs
    }

    /// Each setting in which `self` (a resumed run) differs from `earlier`, named as the
    /// command line names it.
    public func mismatches(resuming earlier: RunRecord) -> [String] {
        var found: [String] = []
        func compare<T: Equatable>(_ name: String, _ a: T, _ b: T, shown: (T) -> String = { "\($0)" }) {
            if a != b { found.append("\(name): this run \(shown(a)), the checkpointed run \(shown(b))") }
        }
        compare("data (content hash of \(dataFile))", dataHash, earlier.dataHash)
        compare("--seed", seed, earlier.seed)
        compare("--model", architecture.kind.rawValue, earlier.architecture.kind.rawValue)
        if architecture.kind == earlier.architecture.kind {
            compare("model options (layer sizes)", architecture, earlier.architecture, shown: { _ in "differ" })
        }
        compare("input encoding (image, patch, site or descriptor options)", encoding, earlier.encoding, shown: { _ in "differs" })
        compare("--optimizer", optimizer.rawValue, earlier.optimizer.rawValue)
        compare("--ensemble", ensemble, earlier.ensemble)
        compare("--batch-size", batchSize, earlier.batchSize)
        compare("--validation-fraction", validationFraction, earlier.validationFraction)
        compare("--test-fraction", testFraction, earlier.testFraction)
        compare("structures read (--group, --skip-invalid, ...)", structureCount, earlier.structureCount)
        return found
    }

    /// The plan's choices that decide which structures each member trained, validated and was
    /// tested on, so a later command can tell seen from unseen structures.
    public var splitPlan: TrainingPlan {
        var plan = TrainingPlan()
        plan.seed = seed
        plan.ensemble = ensemble
        plan.validationFraction = validationFraction
        plan.testFraction = testFraction
        return plan
    }

    public func write(to folder: RunFolder) throws {
        try writeAtomically(sitelensJSONEncoder(pretty: true).encode(self), to: folder.file(.record))
    }

    /// The folder's record; an error names the file when it is missing or unreadable.
    public static func read(from folder: RunFolder) throws -> RunRecord {
        let url = folder.file(.record)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw InputError(file: url.path, "cannot read the run record (is \(folder.path) a SiteLens run folder?)")
        }
        do { return try JSONDecoder().decode(RunRecord.self, from: data) }
        catch { throw InputError(file: url.path, "unreadable run record: \(error)") }
    }
}

/// A file's content as a short hash (FNV-1a, 64 bits): enough to tell another data file from
/// the same one, not a cryptographic check.
public func contentHash(of url: URL) throws -> String {
    guard let handle = FileHandle(forReadingAtPath: url.path) else { throw InputError(file: url.path, "cannot read the file") }
    defer { try? handle.close() }
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
        for byte in chunk { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    }
    return String(hash, radix: 16)
}
