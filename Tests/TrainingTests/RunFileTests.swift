@testable import Basics
import Foundation
@testable import Networks
import Testing
import TestSupport
@testable import Training

/// Run and model files rejected in the user's words (issue 24, item 4): the file and the field
/// named, never Swift's decoding text, and run.json's values checked before anything uses them.
struct RunFileTests {
    /// Words of Swift's `DecodingError` descriptions that a message must not show.
    static let swiftDecodingText = ["DecodingError", "CodingKeys", "typeMismatch", "keyNotFound", "dataCorrupted", "codingPath", "debugDescription"]

    func shows(swiftText message: String) -> Bool { Self.swiftDecodingText.contains { message.contains($0) } }

    /// run.json with `key` set to the JSON text `value` (nil: removed).
    func edit(_ run: URL, _ key: String, _ value: String?) throws {
        let url = run.appendingPathComponent("run.json")
        var object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
        if let value { object[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed) }
        else { object.removeValue(forKey: key) }
        try JSONSerialization.data(withJSONObject: object).write(to: url)
    }

    @Test func impossibleRunRecordsAreRefusedNamingTheField() throws {
        let (folder, csv, run) = try finishedRun(rows: 30)
        let original = try Data(contentsOf: run.appendingPathComponent("run.json"))
        let cases: [(String, String?, String)] = [
            ("ensemble", "-3", "field 'ensemble': -3"), ("ensemble", "0", "field 'ensemble'"), ("version", "1", "field 'version': 1"),
            ("version", "3", "field 'version': 3"), ("validationFraction", "1.5", "field 'validationFraction'"),
            ("testFraction", "0.6", "field 'testFraction'"), ("epochs", "-1", "field 'epochs'"), ("learningRate", "-1", "field 'learningRate'"),
            ("ensemble", "\"two\"", "field 'ensemble': unreadable run record: expected a whole number"),
            ("seed", nil, "field 'seed': unreadable run record: missing"), ("optimizer", "\"adamw\"", "field 'optimizer'"),
        ]
        for (key, value, expected) in cases {
            try original.write(to: run.appendingPathComponent("run.json"))
            if key == "testFraction" { try edit(run, "validationFraction", "0.5") }
            try edit(run, key, value)
            for command in [["predict", "--run", run.path, csv, "--out", folder.appendingPathComponent("p.csv").path],
                            ["decompose", "--run", run.path, "--out", folder.appendingPathComponent("d").path]] {
                let outcome = try runProcess(sitelens, command, timeout: 120)
                #expect(outcome.status == 1, "\(command[0]) \(key)=\(value ?? "nil"): status \(outcome.status)")
                #expect(outcome.stderr.contains("run.json: \(expected)") && !shows(swiftText: outcome.stderr),
                        "\(command[0]) \(key)=\(value ?? "nil"): \(outcome.stderr)")
            }
        }
    }

    @Test func modelFileRejectionsNameTheFieldNotSwift() throws {
        let (_, _, run) = try finishedRun(rows: 30)
        let model = run.appendingPathComponent("model")
        let url = model.appendingPathComponent("member-0.json")
        let original = try Data(contentsOf: url)
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("field 'normalisation'", { $0["normalisation"] = "big" }),
            ("field 'normalisation.scale'", { $0["normalisation"] = ["mean": 1] }),
            ("field 'architecture'", { $0.removeValue(forKey: "architecture") }),
            ("field 'version': 7", { $0["version"] = 7 }),
            ("not valid JSON", { $0 = ["": Data()] }),
        ]
        for (expected, change) in cases {
            var object = try JSONSerialization.jsonObject(with: original) as? [String: Any] ?? [:]
            change(&object)
            let data = JSONSerialization.isValidJSONObject(object) ? try JSONSerialization.data(withJSONObject: object) : Data("{,".utf8)
            try data.write(to: url)
            #expect { _ = try EnergyModel.load(from: model, name: "member-0") } throws: {
                "\($0)".contains(url.path) && "\($0)".contains(expected) && !shows(swiftText: "\($0)")
            }
        }
    }

    /// All-electron total energies (near −3e6 eV) are valid data: train accepts them and
    /// `predict` reads the model train wrote.
    @Test func allElectronTotalEnergiesTrainAndPredict() throws {
        let data = try plantedData(rows: 30)
        let lines = try String(contentsOfFile: data.csv, encoding: .utf8).split(separator: "\n")
        let column = lines[0].split(separator: ",").firstIndex(of: "Eads") ?? 0
        let shifted = lines.enumerated().map { index, line -> String in
            guard index > 0 else { return String(line) }
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            fields[column] = String(format: "%.6f", (Double(fields[column]) ?? 0) - 3.1e6)
            return fields.joined(separator: ",")
        }
        let csv = data.folder.appendingPathComponent("total.csv")
        try (shifted.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let run = data.folder.appendingPathComponent("run")
        let trained = try runProcess(sitelens, ["train", csv.path, "--epochs", "2", "--run-dir", run.path], timeout: 300)
        #expect(trained.status == 0, "\(trained.stderr)")
        let out = data.folder.appendingPathComponent("p.csv")
        let predicted = try runProcess(sitelens, ["predict", "--run", run.path, csv.path, "--out", out.path], timeout: 120)
        #expect(predicted.status == 0, "\(predicted.stderr)")
        let rows = try String(contentsOf: out, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(rows.count == 30)
        let predictions = rows.compactMap { $0.split(separator: ",").dropFirst(2).first.flatMap { Double($0) } }
        #expect(predictions.count == 30 && predictions.allSatisfy { abs($0 + 3.1e6) < 1e3 }, "\(rows.prefix(3))")
    }
}
