import ArgumentParser
import Basics
import Foundation
import Training

/// `train --config FILE`: `train`'s options as a JSON object, each key a flag's long name
/// without the dashes (`{"model": "ryczko", "epochs": 50, "batch-size": 16, "overwrite": true}`).
/// The file becomes command-line arguments placed before the typed ones, so swift-argument-parser
/// parses and range-checks every option as it does a flag (one owner), and a flag on the
/// command line wins over the file (the parser keeps an option's last value).
struct TrainConfigFile {
    /// The largest config file read (a page of options is a few hundred bytes; run.json keeps it whole).
    static let byteLimit = RunProvenance.ConfigFile.byteLimit
    static let optionName = "config"

    let path: String
    let contents: String
    /// Each key's arguments.
    let keyed: [(key: String, arguments: [String])]

    /// A JSON value as the file gives it; arrays, objects and null take no option.
    private enum Value: Decodable {
        case flag(Bool), whole(Int), number(Double), text(String), unusable

        init(from decoder: Decoder) throws {
            let single = try decoder.singleValueContainer()
            if let flag = try? single.decode(Bool.self) { self = .flag(flag) }
            else if let whole = try? single.decode(Int.self) { self = .whole(whole) }
            else if let number = try? single.decode(Double.self) { self = .number(number) }
            else if let text = try? single.decode(String.self) { self = .text(text) }
            else { self = .unusable }
        }
    }

    /// Reads `path` as one JSON object of options, naming the file (and the line of a JSON
    /// syntax error, or the key of a value no option takes).
    init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw InputError(file: path, "cannot read the config file") }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: Self.byteLimit + 1) ?? Data()
        guard data.count <= Self.byteLimit else { throw InputError(file: path, "config file larger than \(Self.byteLimit) bytes") }
        guard let text = String(data: data, encoding: .utf8) else { throw InputError(file: path, "config file is not UTF-8 text") }
        contents = text
        do { _ = try JSONSerialization.jsonObject(with: data) } catch {
            throw InputError(file: path, line: Self.line(of: error, in: data), "not valid JSON")
        }
        let values: [String: Value]
        do { values = try JSONDecoder().decode([String: Value].self, from: data) } catch {
            throw InputError(file: path, "a config file is one JSON object of option names and values")
        }
        keyed = try values.keys.sorted().map { key in (key, try Self.arguments(key: key, value: values[key] ?? .unusable, file: path)) }
        // A flag set false gives no argument, so its name is checked here (a misspelt one would pass unseen).
        for (key, value) in values { if case .flag(false) = value { try Self.probe(["--\(key)"], key: key, file: path) } }
    }

    /// The file's options as arguments, keys in sorted order.
    var arguments: [String] { keyed.flatMap(\.arguments) }

    /// Checks the file's options with the typed ones (`typed`, after `train`): when they fail
    /// together, the first key that fails alone is named; else the parser's error stands
    /// (options that exclude each other, or a typed option's own error).
    func check(with typed: [String]) throws {
        do { _ = try Train.parse(arguments + typed) } catch {
            for (key, given) in keyed { try Self.probe(given, key: key, file: path) }
            throw error
        }
    }

    /// `key`'s arguments: `--key=VALUE`, or `--key` for true (false gives none).
    private static func arguments(key: String, value: Value, file: String) throws -> [String] {
        guard key != optionName, !key.hasPrefix("-"), !key.isEmpty else {
            throw InputError(file: file, field: key, "not an option a config file gives (use the flag's name without dashes; no nested --config)")
        }
        switch value {
        case .flag(let on): return on ? ["--\(key)"] : []
        // `--key=VALUE`, so a value starting with "-" is read as the value, not as another option.
        case .whole(let whole): return ["--\(key)=\(whole)"]
        case .number(let number): return ["--\(key)=\(number)"]
        case .text(let text): return ["--\(key)=\(text)"]
        case .unusable: throw InputError(file: file, field: key, "expected a number, text, or true/false; not a list, object or null")
        }
    }

    /// Parses one key alone, so a refusal names the key that caused it.
    private static func probe(_ arguments: [String], key: String, file: String) throws {
        do { _ = try Train.parse(["config-check-input"] + arguments) } catch {
            let message = Train.message(for: error)
            let flagAlone = arguments == ["--\(key)"]
            if flagAlone && message.contains("Missing value") {
                throw InputError(file: file, field: key, "takes a value, not true/false (\(message))")
            }
            if !flagAlone, (try? Train.parse(["config-check-input", "--\(key)"])) != nil {
                throw InputError(file: file, field: key, "is a flag: give true or false (\(message))")
            }
            throw InputError(file: file, field: key, message)
        }
    }

    /// The 1-based line of a JSON syntax error, from Foundation's "around character N".
    private static func line(of error: Error, in data: Data) -> Int? {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
        guard let range = text.range(of: #"character \d+"#, options: .regularExpression),
              let offset = Int(text[range].dropFirst("character ".count)), offset >= 0 else { return nil }
        return data.prefix(offset).reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
    }

    /// `arguments` (after the executable) with a `train --config FILE`'s options placed before
    /// the typed ones, and the file as read; other commands pass through unchanged.
    static func expanded(_ arguments: [String]) throws -> (arguments: [String], file: TrainConfigFile?) {
        guard arguments.first == "train", let path = configPath(in: arguments) else { return (arguments, nil) }
        let file = try TrainConfigFile(path: path)
        try file.check(with: Array(arguments.dropFirst()))
        return (["train"] + file.arguments + arguments.dropFirst(), file)
    }

    /// The value of `--config` in `arguments` (either `--config FILE` or `--config=FILE`).
    static func configPath(in arguments: [String]) -> String? {
        let flag = "--\(optionName)"
        for (index, argument) in arguments.enumerated() {
            if argument == "--" { return nil }
            if argument == flag { return index + 1 < arguments.count ? arguments[index + 1] : nil }
            if argument.hasPrefix(flag + "=") { return String(argument.dropFirst(flag.count + 1)) }
        }
        return nil
    }

    /// What run.json keeps of the file.
    var record: RunProvenance.ConfigFile { RunProvenance.ConfigFile(path: path, contents: contents) }
}
