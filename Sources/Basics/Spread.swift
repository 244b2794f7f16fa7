/// A value per ensemble member, summarised: mean, standard deviation (n − 1), member count.
public struct Spread: Codable, Sendable, Equatable {
    public let mean: Double
    public let std: Double
    public let members: Int

    public init(_ values: [Double]) {
        let average = values.reduce(0, +) / Double(max(values.count, 1))
        members = values.count
        mean = average
        std = values.count > 1 ? (values.map { ($0 - average) * ($0 - average) }.reduce(0, +) / Double(values.count - 1)).squareRoot() : 0
    }
}

/// The median: the middle value, or the mean of the middle two for an even count; nil for none.
/// Every median SiteLens reports or scales by (bench tables, the interval's scale, the screen's
/// spread limit, the nearest-neighbour distance) is this one.
public func median(_ values: [Double]) -> Double? {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return nil }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
