import Basics
import Foundation
import Testing
import TestSupport
@testable import Networks
@testable import Structures

struct ModelFileTests {
    func smallModel() throws -> EnergyModel {
        let descriptors = try ElementDescriptors.lookUp(for: ["Fe", "Co"])
        let encoding = try InputEncoding.sites(siteNames: ["a", "b", "c"], descriptors: descriptors, elements: ["Fe", "Co"])
        let architecture = Architecture.sites(features: encoding.itemShape.channels, hidden: 4)
        let network = try Network(architecture)
        return try EnergyModel(modelDescription: ModelDescription(architecture: architecture, encoding: encoding,
                                                             normalisation: TargetNormalisation(mean: -1.5, scale: 0.25)),
                               parameters: network.initialParameters(seed: 5))
    }

    @Test func savedModelsLoadBackExactly() throws {
        let model = try smallModel()
        let folder = try temporaryFolder()
        try model.save(to: folder, name: "member-0")
        let loaded = try EnergyModel.load(from: folder, name: "member-0")
        #expect(loaded.parameters == model.parameters)
        #expect(loaded.modelDescription == model.modelDescription)
        let structure = Structure(symbols: ["Fe", "Co", "Fe"], positions: [.zero, .zero, .zero], siteLabels: ["a", "b", "c"])
        #expect(try loaded.predict(structure) == model.predict(structure))
        // Contributions sum to the prediction.
        let parts = try model.contributions(try model.encoder.encode(structure))
        #expect(abs(parts.reduce(0, +) - (try model.predict(structure))) < 1e-12)
    }

    func decodeFailure(_ data: Data) -> String? {
        do { _ = try SafeTensors.decode(data, file: "m.safetensors"); return nil } catch { return "\(error)" }
    }

    @Test func badFilesAreRejectedWithAReason() throws {
        let good = try SafeTensors.encode([.init(name: "a", shape: [2], values: [1, 2]), .init(name: "b", shape: [1, 1], values: [3])])
        #expect(decodeFailure(good) == nil)
        #expect(decodeFailure(Data([1, 2, 3]))?.contains("too short") == true)
        var huge = good
        huge.replaceSubrange(0..<8, with: [0xff, 0xff, 0, 0, 0, 0, 0, 0])
        #expect(decodeFailure(huge)?.contains("runs past the end") == true)
        #expect(decodeFailure(good.dropLast(4))?.contains("fall outside") == true)
        func withHeader(_ json: String, dataBytes: Int) -> Data {
            var d = Data()
            withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(contentsOf: Array(json.utf8))
            d.append(Data(count: dataBytes))
            return d
        }
        #expect(decodeFailure(withHeader(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12))?.contains("overlaps") == true)
        #expect(decodeFailure(withHeader(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8))?.contains("needs 12 bytes") == true)
        #expect(decodeFailure(withHeader(#"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#, dataBytes: 8))?.contains("F16") == true)
        #expect(decodeFailure(withHeader("not json", dataBytes: 0))?.contains("not a JSON object") == true)
        #expect(decodeFailure(withHeader(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, dataBytes: 8))?.contains("gap") == true)
    }

    /// Every file records its data's CRC-32; one changed byte is refused by name, and a file
    /// without the checksum (written before it existed) still loads.
    @Test func changedWeightBytesAreRefusedByTheChecksum() throws {
        let tensors: [SafeTensors.Tensor] = [.init(name: "a", shape: [2], values: [1, 2]), .init(name: "b", shape: [1, 1], values: [3])]
        let good = try SafeTensors.encode(tensors, metadata: ["kind": "sites"])
        let decoded = try SafeTensors.decode(good, file: "m.safetensors")
        #expect(decoded.tensors == tensors && decoded.metadata["kind"] == "sites")
        #expect(decoded.metadata[SafeTensors.dataChecksumKey]?.count == 8)
        for offset in [good.count - 12, good.count - 1] {
            var damaged = good
            damaged[offset] ^= 0x01
            let failure = decodeFailure(damaged)
            #expect(failure?.contains("m.safetensors") == true && failure?.contains("data_crc32") == true
                    && failure?.contains("damaged") == true, "\(failure ?? "accepted")")
        }
        // The same file as an older SiteLens wrote it: no checksum in the header, accepted.
        let (written, data) = splitSafeTensors(Array(good))
        let header = written.replacingOccurrences(of: #""data_crc32":"[0-9a-f]{8}",?"#, with: "", options: .regularExpression)
        let old = Data(joinSafeTensors(header: header, data: data))
        #expect(!header.contains("data_crc32") && header.contains(#""kind":"sites""#), "\(header)")
        #expect(try SafeTensors.decode(old, file: "m.safetensors").tensors == tensors)
    }

    @Test func shapesAreCheckedAgainstTheArchitecture() throws {
        let model = try smallModel()
        let folder = try temporaryFolder()
        try model.save(to: folder, name: "m")
        var tensors = model.tensors()
        tensors[0] = .init(name: tensors[0].name, shape: [tensors[0].shape[1], tensors[0].shape[0]], values: tensors[0].values)
        try SafeTensors.encode(tensors).write(to: folder.appendingPathComponent("m.safetensors"))
        #expect(throws: InputError.self) { try EnergyModel.load(from: folder, name: "m") }
        try Data("{}".utf8).write(to: folder.appendingPathComponent("m.json"))
        #expect(throws: InputError.self) { try EnergyModel.load(from: folder, name: "m") }
    }

    @Test(.enabled(if: Available.safetensors, "python3 cannot import safetensors and numpy (Launch/test installs them with pip when it can)"))
    func pythonSafetensorsReadsTheWeights() throws {
        let model = try smallModel()
        let folder = try temporaryFolder()
        try model.save(to: folder, name: "m")
        let script = """
        from safetensors.numpy import load_file
        t = load_file('\(folder.path)/m.safetensors')
        for k in sorted(t): print(k, list(t[k].shape), repr(float(t[k].ravel()[0])), repr(float(t[k].sum(dtype='float64'))))
        """
        let run = try runProcess("python3", ["-c", script])
        #expect(run.status == 0, "\(run.stderr)")
        let expected = model.tensors().sorted { $0.name < $1.name }.map { t in
            "\(t.name) \(t.shape) \(Double(t.values[0])) \(t.values.reduce(0.0) { $0 + Double($1) })"
        }
        let got = run.stdout.split(separator: "\n").map(String.init)
        #expect(got.count == expected.count)
        for (line, want) in zip(got, expected) {
            let a = line.split(separator: " "), b = want.split(separator: " ")
            #expect(a.dropLast() == b.dropLast(), "\(line) vs \(want)")
            #expect(abs(Double(a.last!)! - Double(b.last!)!) < 1e-9)
        }
    }
}
