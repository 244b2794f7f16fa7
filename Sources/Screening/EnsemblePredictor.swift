/// The seam for model kinds that are not tables: what a scan needs from one run's ensemble is
/// every member's prediction for a batch of occupations. `MemberTables` answers by look-ups; an
/// image or `atomic` predictor (not built yet) would be one new file conforming to this: build
/// each occupation through the run's site template, rasterise, and run batched forward passes.
/// `Scorer.scanBatched` then ranks, bins and keeps the top K exactly as the table scan does.
public protocol EnsemblePredictor {
    var memberCount: Int { get }
    /// predictions[c][m]: member m's energy for occupation c, given as indices into
    /// `space.elements` per site.
    func memberPredictions(_ occupations: [[Int]], space: CandidateSpace) throws -> [[Double]]
}

extension MemberTables: EnsemblePredictor {
    public var memberCount: Int { values.count }

    public func memberPredictions(_ occupations: [[Int]], space: CandidateSpace) throws -> [[Double]] {
        let columns = try space.elements.map { element -> Int in
            guard let column = elements.firstIndex(of: element) else { throw ScreenError("the tables hold no \(element)") }
            return column
        }
        return occupations.map { occupation in memberPredictions(occupation.map { columns[$0] }) }
    }
}

extension Scorer {
    /// The largest batch a predictor is asked for at once.
    public static let batchLimit = 65_536

    /// Scores `block` through `predictors` (one per run, in the scorer's run order), `batch`
    /// candidates at a time; the same candidates, scores, ties and histogram as `scan`.
    public func scanBatched(_ block: Range<Int>, predictors: [any EnsemblePredictor], batch: Int,
                            top: inout TopKeeper, histogram: inout ObjectiveHistogram) throws -> Int {
        guard predictors.map(\.memberCount) == memberCounts else {
            throw ScreenError("the predictors hold \(predictors.map(\.memberCount)) members; the scorer was built for \(memberCounts)")
        }
        guard (1...Self.batchLimit).contains(batch) else { throw ScreenError("batch \(batch): must be within 1...\(Self.batchLimit)") }
        var accepted = 0
        var sums = [Double](repeating: 0, count: totalMembers)
        var start = block.lowerBound
        while start < block.upperBound {
            let end = min(start + batch, block.upperBound)
            let kept = (start..<end).map { ($0, space.digits(of: $0)) }.filter { space.satisfiesWindows($0.1) }
            let occupations = kept.map { _, digits in digits.enumerated().map { space.allowed[$0.offset][$0.element] } }
            let predictions = try predictors.map { try $0.memberPredictions(occupations, space: space) }
            for (c, (index, _)) in kept.enumerated() {
                for r in predictors.indices { for m in 0..<memberCounts[r] { sums[memberStarts[r] + m] = predictions[r][c][m] } }
                sums.withUnsafeMutableBufferPointer { buffer in
                    let (value, std) = quickObjective(buffer)
                    histogram.add(value)
                    if top.admits(score: ranking.score(objective: value, std: std), index: index) { top.offer(candidate(index: index, sums: buffer)) }
                }
                accepted += 1
            }
            start = end
        }
        return accepted
    }
}
