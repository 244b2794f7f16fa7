import Basics

/// Marks candidates that lie outside what the runs were trained on: a candidate is *far* when
/// it puts an element on a site where no training row has it, or holds a count of an element
/// outside the range of counts in the training rows; it is *flagged* when it is far and the
/// spread of its objective is above `spreadLimit` (`spreadFactor` × the median spread over the
/// training rows). Rows are those of the runs the objective reads.
public struct ExtrapolationCheck: Sendable {
    public static let spreadFactor = 2.0
    let seenPairs: Set<String>
    let countRanges: [String: ClosedRange<Int>]
    /// The objective spread above which a far candidate is flagged, eV.
    public let spreadLimit: Double

    /// At most this many training rows (evenly spaced) set the spread limit: all of a site
    /// table's rows are look-ups for a `sites` run, but a forward pass each for an image run.
    public static let spreadRowLimit = 2000

    /// At most `spreadRowLimit` of `rows`, evenly spaced from the first: the training rows that
    /// checks needing a prediction per row evaluate.
    static func evenlySpaced<Row>(_ rows: [Row]) -> [Row] {
        let step = max(1, (rows.count + spreadRowLimit - 1) / spreadRowLimit)
        return stride(from: 0, to: rows.count, by: step).map { rows[$0] }
    }

    public init(runs: [ScreenedRun], scorer: Scorer) throws {
        let used = Array(runs.prefix(scorer.ranking.objective.runsNeeded))
        let rows = used.flatMap(\.rows)
        let sites = scorer.space.sites
        seenPairs = Set(rows.flatMap { row in row.enumerated().map { "\($0.offset)|\($0.element)" } })
        var ranges: [String: ClosedRange<Int>] = [:]
        for element in scorer.space.elements {
            let counts = rows.map { row in row.filter { $0 == element }.count }
            ranges[element] = (counts.min() ?? 0)...(counts.max() ?? sites.count)
        }
        countRanges = ranges
        let spreadRows = Self.evenlySpaced(rows)
        let predictions = try used.map { try $0.memberPredictions(named: spreadRows) }
        var spreads: [Double] = []
        for k in spreadRows.indices {
            let members = predictions.compactMap { $0[k] }
            guard members.count == used.count else { continue }
            let spread = members.map { Spread($0) }
            spreads.append(scorer.objective(means: spread.map(\.mean), stds: spread.map(\.std)).1)
        }
        spreadLimit = Self.spreadFactor * (median(spreads) ?? 0)
    }

    /// Why an occupation is far from the training rows (empty when it is not).
    public func reasons(_ occupation: [String], sites: [String]) -> [String] {
        var found = occupation.enumerated().filter { !seenPairs.contains("\($0.offset)|\($0.element)") }
            .map { "\($0.element) at \(sites[$0.offset]) never in training" }
        for (element, range) in countRanges.sorted(by: { $0.key < $1.key }) {
            let count = occupation.filter { $0 == element }.count
            if !range.contains(count) { found.append("\(count) \(element) (training \(range.lowerBound)-\(range.upperBound))") }
        }
        return found
    }

    public func isFlagged(_ occupation: [String], sites: [String], objectiveStd: Double) -> Bool {
        !reasons(occupation, sites: sites).isEmpty && objectiveStd > spreadLimit
    }
}
