/// Which structures each member trained and validated on, and which none saw (the ensemble's
/// test set): predictions are labelled with it and test errors are computed on it alone.
public struct DataRoles: Sendable {
    /// Per structure: "test" (no member saw it), "unseen" (not from the run's data), or each
    /// member's role, e.g. "m0:train m1:validation".
    public let labels: [String]
    public let test: [Int]

    public init(count: Int, test: [Int], members: [(train: [Int], validation: [Int])]) {
        // Under --bootstrap a member's resample leaves some structures out ("out-of-bag").
        var roles = (0..<count).map { _ in members.indices.map { "m\($0):out-of-bag" } }
        for (m, split) in members.enumerated() {
            for i in split.train { roles[i][m] = "m\(m):train" }
            for i in split.validation { roles[i][m] = "m\(m):validation" }
        }
        var labels = roles.map { $0.joined(separator: " ") }
        for i in test { labels[i] = "test" }
        self.labels = labels
        self.test = test
    }

    /// Structures that are not the run's own data: all unseen, no test set.
    public static func unseen(count: Int) -> DataRoles { DataRoles(labels: Array(repeating: "unseen", count: count)) }

    private init(labels: [String]) {
        self.labels = labels
        self.test = []
    }
}
