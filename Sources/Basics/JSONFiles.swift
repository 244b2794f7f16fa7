import Foundation

/// JSON as SiteLens writes its files: keys sorted (stable diffs), optionally indented, and
/// non-finite numbers as the strings "inf", "-inf" and "nan" (a diverged metric is written as
/// it was, not refused). `sitelensJSONDecoder` reads them back.
public func sitelensJSONEncoder(pretty: Bool = false) -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return encoder
}

/// Reads what `sitelensJSONEncoder` writes.
public func sitelensJSONDecoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return decoder
}

/// A JSON decoding failure in the user's words: the field's path (`a.b[2].c`) and what is
/// wrong, never Swift's `DecodingError` text. Other errors pass through as their description.
public func decodingProblem(_ error: Error) -> (field: String?, problem: String) {
    func path(_ keys: [CodingKey], _ last: CodingKey? = nil) -> String? {
        let all = keys + (last.map { [$0] } ?? [])
        guard !all.isEmpty else { return nil }
        return all.enumerated().map { index, key in
            key.intValue.map { "[\($0)]" } ?? (index == 0 ? key.stringValue : ".\(key.stringValue)")
        }.joined()
    }
    guard let error = error as? DecodingError else { return (nil, "\(error)") }
    switch error {
    case .keyNotFound(let key, let context):
        return (path(context.codingPath, key), "missing")
    case .valueNotFound(let type, let context):
        return (path(context.codingPath), "is null; expected \(readableName(of: type))")
    case .typeMismatch(let type, let context):
        return (path(context.codingPath), "expected \(readableName(of: type))")
    case .dataCorrupted(let context):
        // Swift's text here names the JSON parser's complaint (a bad enum value, a bad number, not JSON at all).
        let field = path(context.codingPath)
        if field == nil { return (nil, "not valid JSON") }
        return (field, "is not a value this field takes")
    @unknown default:
        return (nil, "unreadable")
    }
}

/// "a number", "text", ... for the types SiteLens files hold.
private func readableName(of type: Any.Type) -> String {
    switch type {
    case is Int.Type, is UInt64.Type, is Int64.Type, is UInt32.Type, is Int32.Type: return "a whole number"
    case is Double.Type, is Float.Type: return "a number"
    case is String.Type: return "text"
    case is Bool.Type: return "true or false"
    default:
        let name = "\(type)"
        if name.hasPrefix("Array") { return "a list" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return "an object or value of its own kind"
    }
}
