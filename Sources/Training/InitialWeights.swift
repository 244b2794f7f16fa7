import Basics
import Networks
import Structures

extension TrainingPlan {
    /// The training structures `--init lsuv` calibrates a member's layers on: a seeded choice
    /// (from the member's seed alone) of `UnitVarianceCalibration.batchStructures` of them, so
    /// the same on any rank count.
    func calibrationBatch(_ train: [Int], member: Int) -> [Int] {
        var generator = SeededGenerator(seed: memberSeed(member), stream: 0xCA1B)
        return generator.permutation(train.count).prefix(UnitVarianceCalibration.batchStructures).map { train[$0] }
    }

    /// Memory the calibration batch's activations may take on the root.
    static let calibrationBytes = 512 << 20

    /// A fresh member's weights: the seeded draw of the architecture's scheme, then, for a
    /// scheme that calibrates on data, its layers scaled on the member's calibration batch
    /// (encoded here, on the group's root that calls this: the root broadcasts the result).
    func initialParameters(network: Network, member: Int, train: [Int], structures: StructureStore,
                           encoding: InputEncoding) throws -> [Float] {
        var parameters = network.initialParameters(seed: memberSeed(member))
        guard network.architecture.initialisation?.calibratesOnData == true else { return parameters }
        let encoder = try SampleEncoder(encoding)
        // Large images (ryczko at grid 256) take fewer structures: at most what one forward and
        // backward may hold in `calibrationBytes`, and at least one structure.
        let most = network.itemsWithin(bytes: Self.calibrationBytes)
        var (batch, items) = ([EncodedStructure](), 0)
        for index in calibrationBatch(train, member: member) {
            let sample = try encodeSample(index, of: structures, with: encoder)
            guard batch.isEmpty || items + sample.itemCount <= most else { break }
            batch.append(sample)
            items += sample.itemCount
        }
        guard items > 0 else { return parameters }
        try UnitVarianceCalibration.calibrate(&parameters, architecture: network.architecture, input: batch.flatMap(\.values), items: items)
        return parameters
    }
}
