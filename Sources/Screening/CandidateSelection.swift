import Basics

/// The candidates a screen through predictors scores (image and `atomic` runs, or any run with
/// `--sample`): every index of the space, or a seeded uniform sample of distinct indices that
/// meet the count windows. Every rank draws the same sample from the seed alone, so the sample,
/// and which rank scores which part of it, depend on the seed and the rank count only as the
/// contiguous blocks of positions do; the result does not depend on the rank count at all.
public struct CandidateSelection: Sendable, Equatable {
    /// The largest space an image or `atomic` run is screened exhaustively without `--sample`. A
    /// candidate costs a rasterisation and a forward pass per member, about a millisecond
    /// (Issue 22), so 200 000 are a few minutes on one rank of a laptop: the size a user runs
    /// without planning the job. Larger spaces are sampled, or restricted with --fix/--allow.
    public static let exhaustiveLimit = 200_000
    /// The largest `--sample`: the indices (8 bytes each) and the objective values are held on
    /// every rank, and a million candidates are some hours on one rank.
    public static let sampleLimit = 1_000_000
    /// Draws allowed per sampled candidate before the count windows are judged too narrow.
    public static let drawsPerCandidate = 64
    /// The most indices an exhaustive scan walks to find the candidates meeting the count
    /// windows: decoding and testing an index is some 100 ns, so 5^10 (the HEA space) is about a
    /// second, against minutes for the candidates it keeps.
    public static let enumerationLimit = 20_000_000
    /// The generator stream of the sample, apart from every other use of a seed.
    static let sampleStream: UInt64 = 0x5C_4EE7

    public let spaceSize: Int
    /// The candidates meeting the count windows (`spaceSize` without windows).
    public let meetingWindows: Int
    /// The sampled indices, ascending; nil when every index is scored.
    public let sampled: [Int]?
    public let seed: UInt64?

    /// How many indices are walked (before the windows filter an exhaustive scan).
    public var count: Int { sampled?.count ?? spaceSize }

    /// The candidate index at a position of the selection.
    public func index(at position: Int) -> Int { sampled?[position] ?? position }

    /// Every candidate of `space` meeting its windows, refused above `limit` of them (or above
    /// `enumerationLimit` indices to walk) with the sizes and `--sample` named.
    public static func exhaustive(_ space: CandidateSpace, limit: Int = exhaustiveLimit) throws -> CandidateSelection {
        let meeting = space.meetingWindows
        let counted = meeting == space.size ? "\(space.size) occupations" : "\(meeting) occupations meeting the --count windows (of \(space.size))"
        guard meeting <= limit, space.size <= enumerationLimit else {
            throw ScreenError("the candidate space holds \(counted); image and atomic runs are scored exhaustively up to \(limit) "
                              + "(walking at most \(enumerationLimit) indices). Give --sample N (1...\(sampleLimit)) to score a seeded sample, "
                              + "or restrict the space with --fix/--allow/--count")
        }
        return CandidateSelection(spaceSize: space.size, meetingWindows: meeting, sampled: nil, seed: nil)
    }

    /// `sample` distinct candidates meeting the windows, uniform over them, from `seed`; the whole
    /// space (exhaustive) when `sample` is at least its size.
    public static func sample(_ space: CandidateSpace, count sample: Int, seed: UInt64) throws -> CandidateSelection {
        try checkSample(sample)
        let meeting = space.meetingWindows
        // A sample as large as the space is the whole space (walked, if that is not too long).
        if sample >= meeting && space.size <= enumerationLimit {
            return CandidateSelection(spaceSize: space.size, meetingWindows: meeting, sampled: nil, seed: nil)
        }
        guard sample < meeting else {
            throw ScreenError("--sample \(sample): only \(meeting) occupations meet the --count windows; give --sample below \(meeting)")
        }
        var generator = SeededGenerator(seed: seed, stream: sampleStream)
        var chosen = Set<Int>()
        chosen.reserveCapacity(sample)
        let draws = sample * drawsPerCandidate
        var drawn = 0
        while chosen.count < sample && drawn < draws {
            let index = generator.nextIndex(below: space.size)
            if space.satisfiesWindows(space.digits(of: index)) { chosen.insert(index) }
            drawn += 1
        }
        guard chosen.count == sample else {
            throw ScreenError("--sample \(sample): \(draws) draws from the \(space.size) occupations found only \(chosen.count) distinct ones "
                              + "meeting the --count windows; give a smaller --sample or wider windows")
        }
        return CandidateSelection(spaceSize: space.size, meetingWindows: meeting, sampled: chosen.sorted(), seed: seed)
    }

    /// Refuses a `--sample` outside 1...`sampleLimit`, naming the option and the range.
    public static func checkSample(_ sample: Int) throws {
        guard (1...sampleLimit).contains(sample) else { throw ScreenError("--sample \(sample): must be within 1...\(sampleLimit)") }
    }

    /// The selection in words, for the printed summary.
    public var statement: String {
        let space = meetingWindows == spaceSize ? "\(spaceSize) candidates" : "\(meetingWindows) candidates meeting the count windows"
        guard let sampled, let seed else { return "every one of the \(space)" }
        return "a uniform sample of \(sampled.count) of the \(space) (seed \(seed)); the histogram is of the sample"
    }
}
