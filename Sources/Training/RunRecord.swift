import Basics
import Foundation
import Networks

/// What defines a training run, kept as `run.json` in its folder: the data (by content hash),
/// the seed, the model and its input encoding, the optimiser and its learning rate, the
/// ensemble, `--reproducible`, and the other options that shape training by their command-line
/// names. `--resume` must match all of it; only the number of epochs and the learning rate may
/// change (an earlier rate is kept in `earlierLearningRates`). Checkpoints carry the record too.
/// `complete` turns true only when every member and output of the run has been written, so a
/// half-written or interrupted run is never read as a finished ensemble.
public struct RunRecord: Codable, Sendable, Equatable {
    /// The version this SiteLens writes and reads (1 lacked the learning rate and options).
    public static let currentVersion = 2
    public var version = RunRecord.currentVersion
    public var dataFile: String
    public var dataHash: String
    public var seed: UInt64
    public var architecture: Architecture
    public var encoding: InputEncoding
    public var optimizer: OptimizerKind
    /// The learning rate of the latest part of the run.
    public var learningRate: Double
    /// The rates of earlier parts, when a resume changed it.
    public var earlierLearningRates: [EarlierLearningRate] = []
    public var reproducible: Bool
    public var ensemble: Int
    public var batchSize: Int
    public var validationFraction: Double
    public var testFraction: Double
    public var epochs: Int
    /// Structures read from the data file (a different selection of the same file differs here).
    public var structureCount: Int
    /// The other options that shape training (the data's target, the model's options), by
    /// their command-line names (`TrainingPlan.recordedOptions`).
    public var options: [String: String]
    /// How the latest part of the run was made (absent in records written before SiteLens kept it).
    public var provenance: RunProvenance?
    /// How the earlier parts were made, oldest first, when the run was resumed.
    public var earlierParts: [RunProvenance]?
    public var complete = false
    /// `--bootstrap` (nil in records written before SiteLens had it: off).
    public var bootstrap: Bool?
    /// `--validation-split shared` (nil in records written before SiteLens had it: per member).
    public var sharedValidation: Bool?
    /// Members left out of the ensemble's predictions and decompositions, and why (`MemberHealth`);
    /// nil until training has ended.
    public var excludedMembers: [ExcludedMember]?
    /// How the 95 % interval of predictions is calibrated (`IntervalCalibration`); nil until
    /// training has ended. `predict` applies it to new structures.
    public var calibration: IntervalCalibration?

    /// A learning rate a resume replaced, and the epoch each member had reached with it.
    public struct EarlierLearningRate: Codable, Sendable, Equatable {
        public var learningRate: Double
        public var throughEpoch: [Int]
    }

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
        self.learningRate = plan.learningRate
        self.reproducible = plan.reproducible
        self.ensemble = plan.ensemble
        self.batchSize = plan.batchSize
        self.validationFraction = plan.validationFraction
        self.epochs = plan.epochs
        self.options = plan.recordedOptions.merging(plan.fitting.recordedOptions) { given, _ in given }
        self.bootstrap = plan.bootstrap
        self.sharedValidation = plan.sharedValidation
        options[Self.precisionOption] = plan.gradientPrecision.rawValue
        options[Self.convolutionPrecisionOption] = plan.convolutionPrecision.rawValue
    }

    /// The option naming the gradient's precision across ranks; records written before it
    /// existed crossed in Double.
    static let precisionOption = "--gradient-precision"
    /// The option naming the convolutions' number format; records written before it trained in fp32.
    static let convolutionPrecisionOption = "--precision"

    /// What options a record written before they existed meant.
    private static let meaningWhenAbsent = [precisionOption: GradientPrecision.double.rawValue,
                                            convolutionPrecisionOption: ConvolutionPrecision.standard.rawValue]

    /// The value of option `name` in this record, with what records that predate it meant.
    func recorded(_ name: String) -> String? {
        options[name] ?? Self.meaningWhenAbsent[name]
    }

    /// Each setting in which `self` (a resumed run) differs from `earlier`, named as the
    /// command line names it. The epochs and the learning rate may differ.
    public func mismatches(resuming earlier: RunRecord) -> [String] {
        var found: [String] = []
        func compare<T: Equatable>(_ name: String, _ a: T, _ b: T, shown: (T) -> String = { "\($0)" }) {
            if a != b { found.append("\(name): this run \(shown(a)), the checkpointed run \(shown(b))") }
        }
        compare("data (content hash of \(dataFile))", dataHash, earlier.dataHash)
        compare("--seed", seed, earlier.seed)
        compare("--model", architecture.kind.rawValue, earlier.architecture.kind.rawValue)
        for name in Set(options.keys).union(earlier.options.keys).sorted() {
            compare(name, recorded(name) ?? "(not used)", earlier.recorded(name) ?? "(not used)")
        }
        // Backstops for what no named option explains (e.g. image settings chosen from the data).
        if found.isEmpty && architecture.kind == earlier.architecture.kind {
            compare("model options (layer sizes)", architecture, earlier.architecture, shown: { _ in "differ" })
        }
        if found.isEmpty {
            compare("input encoding (image, patch, site or descriptor options)", encoding, earlier.encoding, shown: { _ in "differs" })
        }
        compare("--optimizer", optimizer.rawValue, earlier.optimizer.rawValue)
        compare("--reproducible", reproducible ? "given" : "not given", earlier.reproducible ? "given" : "not given")
        compare("--ensemble", ensemble, earlier.ensemble)
        compare("--batch-size", batchSize, earlier.batchSize)
        compare("--validation-fraction", validationFraction, earlier.validationFraction)
        compare("--test-fraction", testFraction, earlier.testFraction)
        compare("--bootstrap", bootstrap ?? false ? "on" : "off", earlier.bootstrap ?? false ? "on" : "off")
        compare("--validation-split", sharedValidation ?? false ? "shared" : "per-member", earlier.sharedValidation ?? false ? "shared" : "per-member")
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
        plan.bootstrap = bootstrap ?? false
        plan.sharedValidation = sharedValidation ?? false
        return plan
    }

    public func write(to folder: RunFolder) throws {
        try writeAtomically(sitelensJSONEncoder(pretty: true).encode(self), to: folder.file(.record))
    }

    /// The folder's record; an error names the file and the field when it is missing,
    /// unreadable or holds a value no run writes (`check`).
    public static func read(from folder: RunFolder) throws -> RunRecord {
        let url = folder.file(.record)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw InputError(file: url.path, "cannot read the run record (is \(folder.path) a SiteLens run folder?)")
        }
        let version: Int
        do { version = try sitelensJSONDecoder().decode(VersionOnly.self, from: data).version }
        catch {
            let (field, problem) = decodingProblem(error)
            throw InputError(file: url.path, field: field, "not a SiteLens run record: \(problem)")
        }
        guard version == currentVersion else {
            throw InputError(file: url.path, field: "version", "\(version); this SiteLens reads run records of version \(currentVersion)"
                             + (version < currentVersion ? " (the run was made by an earlier SiteLens: train it again)" : ""))
        }
        let record: RunRecord
        do { record = try sitelensJSONDecoder().decode(RunRecord.self, from: data) }
        catch {
            let (field, problem) = decodingProblem(error)
            throw InputError(file: url.path, field: field, "unreadable run record: \(problem)")
        }
        try record.check(file: url.path)
        return record
    }

    private struct VersionOnly: Decodable { var version: Int }

    /// The largest ensemble a record may name (`predict` and `decompose` load every member).
    public static let largestEnsemble = 10_000

    /// Values a run writes: counts in range, fractions in [0, 1) that sum below 1, a positive
    /// finite learning rate, the data file and its hash named, earlier rates with one epoch per member.
    func check(file: String) throws {
        func refuse(_ field: String, _ problem: String) -> InputError { InputError(file: file, field: field, problem) }
        guard (1...Self.largestEnsemble).contains(ensemble) else { throw refuse("ensemble", "\(ensemble); must be in 1...\(Self.largestEnsemble)") }
        guard epochs >= 1 else { throw refuse("epochs", "\(epochs); must be at least 1") }
        guard batchSize >= 1 else { throw refuse("batchSize", "\(batchSize); must be at least 1") }
        guard structureCount >= 2 else { throw refuse("structureCount", "\(structureCount); a run trains on at least 2 structures") }
        if let (option, problem) = TrainingPlan.fractionProblem(validation: validationFraction, test: testFraction) {
            throw refuse(option == "--validation-fraction" ? "validationFraction" : "testFraction", problem)
        }
        guard learningRate.isFinite, learningRate > 0 else { throw refuse("learningRate", "\(learningRate); must be positive") }
        guard !dataFile.isEmpty else { throw refuse("dataFile", "empty; a run names the file it trained on") }
        guard !dataHash.isEmpty, dataHash.allSatisfy(\.isHexDigit) else { throw refuse("dataHash", "'\(dataHash)'; a run records its data's hash in hexadecimal") }
        for (k, part) in ([provenance] + (earlierParts ?? []).map(Optional.some)).enumerated() {
            if let problem = part?.problem() { throw refuse(k == 0 ? "provenance" : "earlierParts[\(k - 1)]", problem) }
        }
        if let problem = calibration?.problem(ensemble: ensemble) { throw refuse("calibration", problem) }
        for (k, excluded) in (excludedMembers ?? []).enumerated() where !(0..<ensemble).contains(excluded.member) {
            throw refuse("excludedMembers[\(k)].member", "\(excluded.member); must be in 0..<\(ensemble)")
        }
        for (k, earlier) in earlierLearningRates.enumerated() {
            guard earlier.learningRate.isFinite, earlier.learningRate > 0, earlier.throughEpoch.count == ensemble,
                  earlier.throughEpoch.allSatisfy({ $0 >= 0 }) else {
                throw refuse("earlierLearningRates[\(k)]", "needs a positive learning rate and a non-negative epoch per member")
            }
        }
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
