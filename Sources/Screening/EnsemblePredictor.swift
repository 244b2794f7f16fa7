/// The seam between model kinds and the scan: what a scan needs from one run's ensemble is
/// every member's prediction for a batch of occupations. `MemberTables` answers a `sites` run by
/// look-ups; `ImageEnsemblePredictor` answers an image or `atomic` run by building, rasterising
/// and evaluating each occupation. `Scorer.scanBatched` ranks, bins and keeps the top K from
/// either exactly as the table scan does.
public protocol EnsemblePredictor {
    /// The site names, in the order of an occupation's entries.
    var sites: [String] { get }
    /// The elements the run saw (those it can be asked about).
    var elements: [String] { get }
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
        var binned = histogram
        defer { histogram = binned }
        return try scanBatched(block, predictors: predictors, batch: batch, top: &top, record: { binned.add($0) })
    }

    /// Scores the candidates `indices` (ascending or not: ties still break by index) through
    /// `predictors`, `batch` at a time, keeping the best in `top` and handing every objective to
    /// `record`; `progress` gets the number of indices done after each batch. Returns how many
    /// met the count windows.
    public func scanBatched<Indices: Collection<Int>>(_ indices: Indices, predictors: [any EnsemblePredictor], batch: Int,
                                                      top: inout TopKeeper, record: (Double) -> Void,
                                                      progress: (Int) -> Void = { _ in }) throws -> Int {
        guard predictors.map(\.memberCount) == memberCounts else {
            throw ScreenError("the predictors hold \(predictors.map(\.memberCount)) members; the scorer was built for \(memberCounts)")
        }
        guard (1...Self.batchLimit).contains(batch) else { throw ScreenError("batch \(batch): must be within 1...\(Self.batchLimit)") }
        var accepted = 0, done = 0
        var sums = [Double](repeating: 0, count: totalMembers)
        var start = indices.startIndex
        while start != indices.endIndex {
            let end = indices.index(start, offsetBy: batch, limitedBy: indices.endIndex) ?? indices.endIndex
            let kept = indices[start..<end].map { ($0, space.digits(of: $0)) }.filter { space.satisfiesWindows($0.1) }
            let occupations = kept.map { _, digits in digits.enumerated().map { space.allowed[$0.offset][$0.element] } }
            let predictions = try predictors.map { try $0.memberPredictions(occupations, space: space) }
            for (c, (index, _)) in kept.enumerated() {
                for r in predictors.indices { for m in 0..<memberCounts[r] { sums[memberStarts[r] + m] = predictions[r][c][m] } }
                sums.withUnsafeMutableBufferPointer { buffer in
                    let (value, std) = quickObjective(buffer)
                    record(value)
                    if top.admits(score: ranking.score(objective: value, std: std), index: index) { top.offer(candidate(index: index, sums: buffer)) }
                }
                accepted += 1
            }
            done += indices.distance(from: start, to: end)
            progress(done)
            start = end
        }
        return accepted
    }
}
