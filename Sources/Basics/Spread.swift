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
