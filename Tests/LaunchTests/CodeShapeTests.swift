import Foundation
import Testing
import TestSupport

/// The house rules read off the code itself (comments left out): each fact one owner, the
/// command target only parsing, Architecture.md a map one can read. A rule broken here names
/// the file and line.
struct CodeShapeTests {
    let sources = repositoryRoot().appendingPathComponent("Sources")

    /// Every Swift file under `folder` (relative to Sources), as (path, code lines) with
    /// comments removed: `//` to the end of a line, outside string literals on that line.
    func code(in folder: String = "") -> [(path: String, lines: [String])] {
        let root = sources.appendingPathComponent(folder)
        let files = (FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".swift") }.sorted()
        return files.map { file in
            let text = (try? String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)) ?? ""
            return ((folder.isEmpty ? "" : folder + "/") + file, text.components(separatedBy: "\n").map(Self.withoutComment))
        }
    }

    static func withoutComment(_ line: String) -> String {
        var inString = false, previous: Character = " "
        for (offset, character) in line.enumerated() {
            if character == "\"" && previous != "\\" { inString.toggle() }
            if !inString && character == "/" && previous == "/" { return String(line.prefix(offset - 1)) }
            previous = character
        }
        return line
    }

    /// Places outside `owners` whose code holds `pattern`.
    func places(_ pattern: String, outside owners: Set<String>, in folder: String = "") throws -> [String] {
        let regex = try Regex(pattern)
        return code(in: folder).filter { !owners.contains($0.path) }.flatMap { file in
            file.lines.enumerated().filter { $0.element.contains(regex) }.map { "\(file.path):\($0.offset + 1): \($0.element.trimmingCharacters(in: .whitespaces))" }
        }
    }

    @Test func runFileNamesAreWrittenOnlyInRunFolder() throws {
        let names = #"\"[^\"]*(run\.json|metrics\.jsonl|decomposition\.(csv|json)|site-influence|element-site\.svg|parity\.svg|learning-curve\.svg|predictions\.csv|test-metrics\.json|contributions\.xyz|\.ckpt|\.safetensors|\.sitelens\.lock|checkpoints/)[^\"]*\""#
        let found = try places(names, outside: ["Basics/RunFolder.swift"])
        #expect(found.isEmpty, "run-file names outside RunFolder.swift:\n\(found.joined(separator: "\n"))")
    }

    @Test func theCommandTargetCallsNoCollective() throws {
        let collectives = #"\.(allReduce|allGather|allGatherv|broadcast|broadcastArray|gather|gatherv|barrier|startBuckets)\("#
        let found = try places(collectives, outside: ["SiteLensCommands/MPIInfo.swift"], in: "SiteLensCommands")
        #expect(found.isEmpty, "collectives called from the command target:\n\(found.joined(separator: "\n"))")
    }

    @Test func oneDummyAtomRule() throws {
        let found = try places(#"\"X\""#, outside: ["Structures/Structure.swift"])
        #expect(found.isEmpty, "the dummy symbol spelt outside Structure.swift:\n\(found.joined(separator: "\n"))")
    }

    /// Binary files (model files, checkpoints, buffers that cross ranks) are little-endian, and
    /// only ByteFraming says how. (PNG's big-endian chunks are the PNG writer's own.)
    @Test func littleEndianBytesAreFramedInOnePlace() throws {
        let found = try places(#"littleEndian|byteSwapped"#, outside: ["Basics/ByteFraming.swift"])
        #expect(found.isEmpty, "byte order handled outside ByteFraming.swift:\n\(found.joined(separator: "\n"))")
    }

    /// The command target parses: no file over 200 lines, no function over 40.
    @Test func theCommandTargetIsSmall() throws {
        var problems: [String] = []
        for file in code(in: "SiteLensCommands") {
            if file.lines.count > 200 { problems.append("\(file.path): \(file.lines.count) lines") }
            for (name, start, length) in Self.functions(file.lines) where length > 40 {
                problems.append("\(file.path):\(start + 1): \(name) is \(length) lines")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Functions as (name, first line, lines): from a line declaring `func NAME` to the line
    /// that closes the brace it opened.
    static func functions(_ lines: [String]) -> [(String, Int, Int)] {
        var found: [(String, Int, Int)] = []
        for (start, line) in lines.enumerated() {
            guard let range = line.range(of: #"\bfunc\s+[A-Za-z_][A-Za-z0-9_]*"#, options: .regularExpression) else { continue }
            var depth = 0, opened = false
            for end in start..<lines.count {
                for character in lines[end] where character == "{" || character == "}" {
                    depth += character == "{" ? 1 : -1
                    opened = opened || character == "{"
                }
                if opened && depth <= 0 {
                    found.append((String(line[range]), start, end - start + 1))
                    break
                }
            }
        }
        return found
    }

    @Test func theFunctionCounterCountsWhatItShould() {
        let lines = ["func a() {", "  if x {", "  }", "}", "func b() { }"]
        let counted = Self.functions(lines)
        #expect(counted.map(\.0) == ["func a", "func b"] && counted.map(\.2) == [4, 1])
        #expect(Self.withoutComment(#"let s = "a // b" // note"#) == #"let s = "a // b" "#)
    }

    @Test func architectureIsAMapWithShortLines() throws {
        let text = try String(contentsOf: repositoryRoot().appendingPathComponent("Docs/Architecture.md"), encoding: .utf8)
        let long = text.components(separatedBy: "\n").enumerated().filter { $0.element.count > 300 }.map { "line \($0.offset + 1): \($0.element.count) characters" }
        #expect(long.isEmpty, "\(long.joined(separator: "\n"))")
        #expect(text.contains("To change") || text.contains("to change"), "the 'to change X, open Y' table")
    }
}
