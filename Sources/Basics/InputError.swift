/// Bad input: which file, which line (1-based) and which field, and what is wrong with it.
public struct InputError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let line: Int?
    public let field: String?
    public let problem: String

    public init(file: String, line: Int? = nil, field: String? = nil, _ problem: String) {
        self.file = file
        self.line = line
        self.field = field
        self.problem = problem
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let field { place += ": field '\(field)'" }
        return "\(place): \(problem)"
    }
}
