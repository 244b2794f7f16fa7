import Basics
import Foundation
import Testing
import TestSupport

/// One way issue 10 broke a saved model: what is changed, and what the error must say.
struct ModelDamage: Sendable {
    let name: String
    /// Changes the description JSON in place; nil leaves it alone.
    let description: (@Sendable (inout [String: Any]) -> Void)?
    /// Changes the safetensors bytes (header text, data); nil leaves them alone.
    let weights: (@Sendable ([UInt8]) -> [UInt8])?
    let fragments: [String]
}

extension ModelDamage {
    init(_ name: String, json: (@Sendable (inout [String: Any]) -> Void)? = nil, weights: (@Sendable ([UInt8]) -> [UInt8])? = nil, _ fragments: [String]) {
        self.init(name: name, description: json, weights: weights, fragments: fragments)
    }
}

/// A safetensors file of `header` and `data`, its data checksum (if the header has one) made to
/// match, as a hostile writer would: the checks after the checksum are what these damages reach.
func restampedSafeTensors(header: String, data: [UInt8]) -> [UInt8] {
    joinSafeTensors(header: header.replacingOccurrences(of: #""data_crc32":"[0-9a-f]{8}""#,
                                                        with: "\"data_crc32\":\"\(String(format: "%08x", crc32(data)))\"",
                                                        options: .regularExpression),
                    data: data)
}

/// Changes the fields of a `sites` encoding (`{"kind": "sites", "siteNames": ...}`).
func sitesEncoding(_ json: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
    var encoding = json["encoding"] as! [String: Any]
    change(&encoding)
    json["encoding"] = encoding
}

let modelDamages: [ModelDamage] = [
    ModelDamage("one weight byte changed, checksum kept", weights: { bytes in
        var damaged = bytes
        damaged[damaged.count - 3] ^= 0x10
        return damaged
    }, ["member-0.safetensors", "data_crc32", "damaged"]),
    ModelDamage("NaN weight", weights: { bytes in
        let (header, original) = splitSafeTensors(bytes)
        var data = original
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { data.replaceSubrange(0..<4, with: $0) }
        return restampedSafeTensors(header: header, data: data)
    }, ["member-0.safetensors", "field 'layer0.dense.kernel'", "finite"]),
    ModelDamage("normalisation scale 1e308", json: { json in
        var normalisation = json["normalisation"] as! [String: Any]
        normalisation["scale"] = 1e308
        json["normalisation"] = normalisation
    }, ["member-0.json", "field 'normalisation.scale'"]),
    ModelDamage("itemChannels near 2^62", json: { json in
        var architecture = json["architecture"] as! [String: Any]
        architecture["itemChannels"] = 4_611_686_018_427_387_904
        json["architecture"] = architecture
    }, ["member-0.json", "field 'architecture'"]),
    ModelDamage("dense width 10^9", json: { json in
        var architecture = json["architecture"] as! [String: Any]
        architecture["layers"] = [["dense": ["activation": "tanh", "bias": false, "units": 1_000_000_000]],
                                  ["dense": ["activation": "identity", "bias": false, "units": 1]]]
        json["architecture"] = architecture
    }, ["member-0.json", "field 'architecture'", "1...65536"]),
    ModelDamage("featureMean shorter than the features", json: { json in
        sitesEncoding(&json) { $0["featureMean"] = Array(($0["featureMean"] as! [Double]).dropLast()) }
    }, ["member-0.json", "field 'encoding'", "featureMean"]),
    ModelDamage("a dropped site name", json: { json in
        sitesEncoding(&json) { $0["siteNames"] = Array(($0["siteNames"] as! [String]).dropLast()) }
    }, ["member-0.json", "field 'architecture.itemChannels'"]),
    ModelDamage("a dropped descriptor name", json: { json in
        sitesEncoding(&json) { sites in
            var descriptors = sites["descriptors"] as! [String: Any]
            descriptors["names"] = Array((descriptors["names"] as! [String]).dropLast())
            sites["descriptors"] = descriptors
        }
    }, ["member-0.json", "field 'architecture.itemChannels'"]),
    ModelDamage("a changed model kind", json: { json in
        var architecture = json["architecture"] as! [String: Any]
        architecture["kind"] = "ryczko"
        json["architecture"] = architecture
    }, ["member-0.json", "field 'architecture.kind'"]),
    ModelDamage("tensor shape 2^31 × 2^31", weights: { bytes in
        let (header, data) = splitSafeTensors(bytes)
        return restampedSafeTensors(header: header.replacingOccurrences(of: "\"shape\":[13,6]", with: "\"shape\":[2147483648,2147483648]"), data: data)
    }, ["member-0.safetensors", "safetensors"]),
]

struct HostileModelTests {
    /// Trains a tiny sites model once per test with the real binary.
    func trainedRun(in folder: URL) throws -> (run: URL, csv: String) {
        let inputs = try writeInputs(in: folder)
        let run = folder.appendingPathComponent("run")
        let outcome = try runProcess(sitelens, ["train", inputs.csv, "--epochs", "2", "--run-dir", run.path],
                                     environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 300)
        try #require(outcome.status == 0, "\(outcome.stderr)")
        return (run, inputs.csv)
    }

    /// Each damaged model file makes `predict` stop with the file and field named, never a
    /// trap or NaN predictions.
    @Test(arguments: modelDamages.map(\.name))
    func damagedModelIsRefusedAtLoad(_ name: String) throws {
        let damage = try #require(modelDamages.first { $0.name == name })
        let folder = try temporaryFolder("sitelens-model")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (run, csv) = try trainedRun(in: folder)
        let model = run.appendingPathComponent("model")
        if let change = damage.description {
            let url = model.appendingPathComponent("member-0.json")
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            change(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: url)
        }
        if let change = damage.weights {
            let url = model.appendingPathComponent("member-0.safetensors")
            let changed = change(Array(try Data(contentsOf: url)))
            #expect(changed != Array(try Data(contentsOf: url)), "\(name): the damage changed nothing")
            try Data(changed).write(to: url)
        }
        let outcome = try runProcess(sitelens, ["predict", "--run", run.path, csv, "--out", folder.appendingPathComponent("p.csv").path],
                                     environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 300)
        #expect(!isCrash(outcome), "\(name): status \(outcome.status): \(outcome.stderr)")
        #expect(outcome.status != 0, "\(name) was accepted: \(outcome.stdout)")
        for fragment in damage.fragments {
            #expect(outcome.stderr.contains(fragment), "\(name): '\(fragment)' not in: \(outcome.stderr)")
        }
    }

    /// A model asked about an element it never saw says so instead of predicting.
    @Test func unseenElementIsRefused() throws {
        let folder = try temporaryFolder("sitelens-model")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (run, csv) = try trainedRun(in: folder)
        let withPt = folder.appendingPathComponent("pt.csv")
        let text = try String(contentsOfFile: csv, encoding: .utf8).replacingOccurrences(of: "\nCu,Ni,", with: "\nPt,Ni,")
        try text.write(to: withPt, atomically: true, encoding: .utf8)
        let outcome = try runProcess(sitelens, ["predict", "--run", run.path, withPt.path, "--out", folder.appendingPathComponent("p.csv").path],
                                     environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 300)
        #expect(!isCrash(outcome) && outcome.status != 0, "\(outcome.stdout) \(outcome.stderr)")
        #expect(outcome.stderr.contains("element Pt was not in the model's training data"), "\(outcome.stderr)")
        let plain = try runProcess(sitelens, ["predict", "--run", run.path, csv, "--out", folder.appendingPathComponent("q.csv").path],
                                   environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 300)
        #expect(plain.status == 0, "the undamaged model predicts: \(plain.stderr)")
    }

    /// Issue 20: every model refuses an element it never saw, naming the element, the file and
    /// the structure's line (a ryczko model predicted identical energies from blank channels).
    @Test(arguments: [["--model", "ryczko"], ["--model", "ryczko", "--channels", "species"], ["--model", "ryczko", "--channels", "single"],
                      ["--model", "atomic"], ["--model", "sites", "--site-rule", "species"]])
    func everyModelRefusesAnUnseenElement(_ model: [String]) throws {
        let folder = try temporaryFolder("sitelens-model")
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputs = try writeInputs(in: folder)
        let run = folder.appendingPathComponent("run")
        let trained = try runProcess(sitelens, ["train", inputs.xyz, "--epochs", "1", "--run-dir", run.path] + model,
                                     environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 300)
        try #require(trained.status == 0, "\(model): \(trained.stderr)")
        let withAu = folder.appendingPathComponent("au.xyz")
        let lines = try String(contentsOfFile: inputs.xyz, encoding: .utf8).components(separatedBy: "\n")
        // The second frame (its count on line 5) gets a gold atom on line 8.
        try lines.enumerated().map { $0.offset == 7 ? $0.element.replacingOccurrences(of: "Cu", with: "Au") : $0.element }
            .joined(separator: "\n").write(to: withAu, atomically: true, encoding: .utf8)
        let outcome = try runProcess(sitelens, ["predict", "--run", run.path, withAu.path, "--out", folder.appendingPathComponent("p.csv").path]
                                     + (model.contains("sites") ? ["--site-rule", "species"] : []),
                                     environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 300)
        #expect(!isCrash(outcome) && outcome.status != 0, "\(model): accepted: \(outcome.stdout)")
        for fragment in ["element Au", withAu.path, "line 5"] {
            #expect(outcome.stderr.contains(fragment), "\(model): '\(fragment)' not in: \(outcome.stderr)")
        }
    }

    /// Issue 20: `predict` on a file with targets says its error and how often the ensemble's
    /// 2σ holds the target (it said nothing).
    @Test func predictSaysItsErrorAgainstTargets() throws {
        let folder = try temporaryFolder("sitelens-model")
        defer { try? FileManager.default.removeItem(at: folder) }
        let inputs = try writeInputs(in: folder)
        let run = folder.appendingPathComponent("run")
        let trained = try runProcess(sitelens, ["train", inputs.csv, "--epochs", "2", "--ensemble", "2", "--run-dir", run.path],
                                     environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 300)
        try #require(trained.status == 0, "\(trained.stderr)")
        let outcome = try runProcess(sitelens, ["predict", "--run", run.path, inputs.csv, "--out", folder.appendingPathComponent("p.csv").path],
                                     environment: ["OPENBLAS_NUM_THREADS": "1"], timeout: 300)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.contains("against the 4 targets in the file: MAE ") && outcome.stdout.contains("% of targets within the ensemble mean ± 2 std"),
                "\(outcome.stdout)")
        let json = try String(contentsOf: run.appendingPathComponent("model/member-0.json"), encoding: .utf8)
        #expect(json.contains("\"targets\""), "the training energies are recorded with the member")
    }
}
