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
