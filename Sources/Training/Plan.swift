import Basics
import Foundation
import Networks

/// What to train and how: shared by every rank.
public struct TrainingPlan: Sendable {
    public var kind: ModelKind = .sites
    public var modelOptions = ModelOptions()
    public var epochs = 100
    /// Global batch size: the samples of one optimiser step across all ranks of a group.
    public var batchSize = 32
    public var learningRate = 1e-3
    public var optimizer: OptimizerKind = .adam
    public var seed: UInt64 = 0
    public var validationFraction = 0.15
    /// Share of the structures held out from every member (the ensemble's test set), drawn
    /// before members draw their validation splits from the rest.
    public var testFraction = 0.1
    /// Ensemble members; the world is split into min(ensemble, ranks) groups.
    public var ensemble = 1
    /// Seconds without a finished training step after which a rank ends the job, naming where
    /// it waited (`StallWatchdog`); nil: never. Steps of the largest models take seconds.
    public var stallTimeout: Double? = 600
    /// The most members a run trains (each is a model file and a checkpoint in the run folder).
    public static let ensembleLimit = 1024
    /// Write a checkpoint every this many epochs (0: never).
    public var checkpointEvery = 0
    /// Compare parameter checksums across ranks every this many steps.
    public var checksumEvery = 50
    /// Print a line every this many epochs; `quiet` prints none.
    public var printEvery = 1
    public var quiet = false
    public var runFolder = RunFolder(path: "sitelens-run")
    /// The run whose checkpoints (and metrics so far) training continues from.
    public var resumeFrom: RunFolder?
    /// Stop (as if interrupted) after this epoch; for testing resume.
    public var haltAfterEpoch: Int?
    /// Stop each epoch after this many steps in all (benchmarks: a few steps of a big data set).
    public var maximumSteps: Int?
    /// Keep each rank's encoded shard in memory, or rasterise each step's samples on the fly.
    public var imageCache: ImageCache = .auto
    /// Bytes a rank may spend on cached samples (nil: half the node's memory over its ranks).
    public var memoryBudget: Int?
    /// Which backend runs the convolutions.
    public var convolutionBackend = ConvolutionBackend.standard
    /// The number format the convolutions compute in (`--precision`); parameters, the optimiser
    /// and every file stay Float either way. Recorded in `run.json` and compared on resume.
    public var convolutionPrecision = ConvolutionPrecision.standard
    /// One sample at a time with Double gradient sums: bit-identical for any rank count, and
    /// slower. Otherwise each rank runs all its samples of a batch through the network at once
    /// (bit-identical on the same rank count, equal to rounding across rank counts).
    public var reproducible = false
    /// Bytes of activations one batched pass may hold; a larger share of a batch runs in chunks.
    public var activationBudget = 1 << 30
    /// How the gradients cross ranks: chosen by where each group runs (`auto`), in buckets
    /// overlapped with backward, or one blocking all-reduce after it (hidden option `--all-reduce`).
    public var gradientReduction = GradientReduction.auto
    /// The precision the gradient sum crosses ranks in (`--gradient-precision`); recorded in
    /// `run.json` and compared on resume.
    public var gradientPrecision = GradientPrecision.double
    /// Which weights to keep, when to stop, and the learning rate's course (`FitPolicy`).
    public var fitting = FitPolicy()
    /// Bagging: each member trains on its own resample (with replacement) of its training
    /// structures (`bootstrapResample`).
    public var bootstrap = TrainingPlan.defaultBootstrap
    /// One validation set for all members (`sharedValidation(count:)`), on which the ensemble's
    /// interval is calibrated; else each member draws its own.
    public var sharedValidation = TrainingPlan.defaultSharedValidation
    /// Members trained with learning rate 0 (hidden test option: a member planted dead).
    public var frozenMembers: Set<Int> = []

    /// Options that shape training beyond the fields above (the data's target column or
    /// energy key, the model's options), by command-line name; recorded in `run.json` and
    /// compared on resume.
    public var recordedOptions: [String: String] = [:]
    /// The `--config` file the options came from, if any (kept in run.json's provenance).
    public var configFile: RunProvenance.ConfigFile?
    /// The run's record, which every checkpoint carries (set by `TrainingRun`; without it a
    /// plan writes no checkpoints and resumes from none).
    public var run: RunRecord?

    public init() {}

    /// What is wrong with these validation and test fractions, and the option to blame: each
    /// must be in [0, 1), and together below 1 so that structures are left to train on.
    public static func fractionProblem(validation: Double, test: Double) -> (option: String, problem: String)? {
        for (option, value) in [("--validation-fraction", validation), ("--test-fraction", test)] where !(value >= 0 && value < 1) {
            return (option, "\(value); must be in [0, 1)")
        }
        guard validation + test < 1 else {
            return ("--test-fraction", "\(test) with --validation-fraction \(validation) leaves nothing to train on (they must sum below 1)")
        }
        return nil
    }

    /// The seed of one ensemble member: its weights, sample order and split all follow from it.
    public func memberSeed(_ member: Int) -> UInt64 {
        var generator = SeededGenerator(seed: seed, stream: UInt64(member) + 1)
        return generator.next()
    }

    /// The ensemble's test set: structures no member trains or validates on, the same for all
    /// members (a seeded choice from the run's seed), in increasing order. At least two
    /// structures are always left to train on.
    public func testSet(count: Int) -> [Int] {
        var generator = SeededGenerator(seed: seed, stream: 0x7E57)
        let order = generator.permutation(count)
        let held = max(0, min(count - 2, Int((testFraction * Double(count)).rounded())))
        return order[..<held].sorted()
    }

    /// The fewest structures a member trains on.
    public static let minimumTrainingStructures = 2

    /// Refuses fractions that leave a member fewer than `minimumTrainingStructures` to train on
    /// (`testSet` and `split` would otherwise shrink what they hold out without a word).
    public func checkSplit(count: Int) throws {
        let test = Int((testFraction * Double(count)).rounded())
        let remaining = count - test
        let validation = Int((validationFraction * Double(max(remaining, 0))).rounded())
        let training = remaining - validation
        guard training >= Self.minimumTrainingStructures else {
            throw TrainingError("--test-fraction \(testFraction) and --validation-fraction \(validationFraction) leave \(max(training, 0)) of "
                                + "\(count) structures to train on; at least \(Self.minimumTrainingStructures) are needed (lower the fractions, or give more structures)")
        }
        if fitting.needsValidation && validation == 0 {
            let needs = fitting.patience > 0 ? "--patience \(fitting.patience)" : "--lr-schedule plateau"
            throw TrainingError("\(needs) watches the validation error, but --validation-fraction \(validationFraction) of \(remaining) "
                                + "structures holds none out (raise --validation-fraction, or use --patience 0 and another --lr-schedule)")
        }
    }

    /// Train and validation indices of a member: the structures outside the test set, in a
    /// seeded shuffle of the member's own, the first part held out for validation (under
    /// `sharedValidation`, the shared set instead, the rest in the member's order); under
    /// `bootstrap`, the training part resampled (`bootstrapResample`).
    public func split(count: Int, member: Int) -> (train: [Int], validation: [Int]) {
        let test = Set(testSet(count: count))
        let remaining = (0..<count).filter { !test.contains($0) }
        var generator = SeededGenerator(seed: memberSeed(member), stream: 0xA11)
        let order = generator.permutation(remaining.count).map { remaining[$0] }
        var (train, validation): ([Int], [Int])
        if sharedValidation {
            validation = self.sharedValidation(count: count)
            let held = Set(validation)
            train = order.filter { !held.contains($0) }
        } else {
            let held = min(order.count - 1, Int((validationFraction * Double(order.count)).rounded()))
            (train, validation) = (Array(order[held...]), Array(order[..<held]))
        }
        return (bootstrap ? bootstrapResample(train, member: member) : train, validation)
    }

    /// The global batches of one epoch, as training positions: the same on every rank and for
    /// every rank count. Positions fall into `batchSize` classes by p mod batchSize; each class
    /// is shuffled, and batch k takes the k-th position of every class. A batch thus holds one
    /// position of each class, so when the rank count divides the batch size, every rank owns
    /// (by the `Shard` rule) an equal share of every batch and no rank waits for a luckier one
    /// at the all-reduce. Other rank counts get uneven shares (tested; see TrainingPartsTests).
    public func epochBatches(count: Int, member: Int, epoch: Int) -> [[Int]] {
        var generator = SeededGenerator(seed: memberSeed(member), stream: 0xE0000 + UInt64(epoch))
        let width = max(1, min(batchSize, count))
        let classes = (0..<width).map { r -> [Int] in
            let members = Array(stride(from: r, to: count, by: width))
            return generator.permutation(members.count).map { members[$0] }
        }
        // Which class fills which slot also changes each epoch.
        let classOrder = generator.permutation(width)
        let batchCount = (count + width - 1) / width
        return (0..<batchCount).map { k in classOrder.compactMap { r in k < classes[r].count ? classes[r][k] : nil } }
    }
}

/// One epoch's figures for one member, reduced over its group.
public struct EpochMetrics: Codable, Sendable, Equatable {
    public var member: Int
    public var epoch: Int
    /// In eV² and eV (targets back in physical units).
    public var trainMSE: Double
    public var trainMAE: Double
    public var validationMSE: Double?
    public var validationMAE: Double?
    public var seconds: Double
    public var samplesPerSecond: Double
    /// Share of the epoch spent waiting for the gradient all-reduce after backward, by the group's
    /// rank that waited least (so waiting for a slower rank is not counted).
    public var allReduceShare: Double
    /// The learning rate of the epoch's steps (`LearningRateSchedule`); nil in logs of older runs.
    public var learningRate: Double?
    /// Root mean squared errors, eV.
    public var trainRMSE: Double { trainMSE.squareRoot() }
    public var validationRMSE: Double? { validationMSE.map { $0.squareRoot() } }

    enum CodingKeys: String, CodingKey {
        case member, epoch, trainMSE, trainMAE, trainRMSE, validationMSE, validationMAE, validationRMSE
        case seconds, samplesPerSecond, allReduceShare, learningRate
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(member, forKey: .member)
        try c.encode(epoch, forKey: .epoch)
        try c.encode(trainMSE, forKey: .trainMSE)
        try c.encode(trainMAE, forKey: .trainMAE)
        try c.encode(trainRMSE, forKey: .trainRMSE)
        try c.encodeIfPresent(validationMSE, forKey: .validationMSE)
        try c.encodeIfPresent(validationMAE, forKey: .validationMAE)
        try c.encodeIfPresent(validationRMSE, forKey: .validationRMSE)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(samplesPerSecond, forKey: .samplesPerSecond)
        try c.encode(allReduceShare, forKey: .allReduceShare)
        try c.encodeIfPresent(learningRate, forKey: .learningRate)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(member: try c.decode(Int.self, forKey: .member), epoch: try c.decode(Int.self, forKey: .epoch),
                  trainMSE: try c.decode(Double.self, forKey: .trainMSE), trainMAE: try c.decode(Double.self, forKey: .trainMAE),
                  validationMSE: try c.decodeIfPresent(Double.self, forKey: .validationMSE),
                  validationMAE: try c.decodeIfPresent(Double.self, forKey: .validationMAE),
                  seconds: try c.decode(Double.self, forKey: .seconds), samplesPerSecond: try c.decode(Double.self, forKey: .samplesPerSecond),
                  allReduceShare: try c.decode(Double.self, forKey: .allReduceShare),
                  learningRate: try c.decodeIfPresent(Double.self, forKey: .learningRate))
    }

    init(member: Int, epoch: Int, trainMSE: Double, trainMAE: Double, validationMSE: Double?, validationMAE: Double?,
         seconds: Double, samplesPerSecond: Double, allReduceShare: Double, learningRate: Double? = nil) {
        self.member = member; self.epoch = epoch; self.trainMSE = trainMSE; self.trainMAE = trainMAE
        self.validationMSE = validationMSE; self.validationMAE = validationMAE; self.seconds = seconds
        self.samplesPerSecond = samplesPerSecond; self.allReduceShare = allReduceShare
        self.learningRate = learningRate
    }
}

/// A training failure that names where it happened.
public struct TrainingError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
