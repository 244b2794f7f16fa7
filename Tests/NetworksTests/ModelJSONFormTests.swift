import Basics
import Foundation
import Testing
import TestSupport
@testable import Images
@testable import Networks
@testable import Structures

/// Model JSON without Swift-specific keys (issue 20, item 5): the encoding and the rasteriser's
/// channels are tagged by `kind`, and files in the older synthesized form (`{"image": {"_0": R}}`,
/// `{"species": {"_0": [...]}}`) still load to the same model.
struct ModelJSONFormTests {
    static let encodings: [InputEncoding] = {
        let descriptors = try! ElementDescriptors.lookUp(for: ["Fe", "Co"])
        let weights = ["Fe": 1.5, "Co": -0.25]
        return [
            try! InputEncoding.sites(siteNames: ["a", "b"], descriptors: descriptors, elements: ["Fe", "Co"]),
            .image(RasterSettings(gridSize: 8, extent: 4, sigma: 0.3, depth: 2, channels: .species(["Fe", "Co"]))),
            .patches(RasterSettings(gridSize: 9, channels: .descriptor(name: "Z", weights: weights)), patchSize: 9, spacing: 0.6),
            .radialPatches(RasterSettings(gridSize: 9, channels: .single), bins: 12, spacing: 0.25),
        ]
    }()

    /// Every key anywhere in a JSON value.
    func keys(_ value: Any) -> [String] {
        if let object = value as? [String: Any] { return object.keys + object.values.flatMap(keys) }
        if let list = value as? [Any] { return list.flatMap(keys) }
        return []
    }

    func object(_ data: Data) throws -> Any { try JSONSerialization.jsonObject(with: data) }

    /// The same value as Swift's synthesized Codable wrote it: `{kind: {"_0": R, ...}}`.
    func legacy(_ value: Any) -> Any {
        if let list = value as? [Any] { return list.map(legacy) }
        guard var object = value as? [String: Any] else { return value }
        object = object.mapValues(legacy)
        guard let kind = object.removeValue(forKey: "kind") as? String else { return object }
        if let raster = object.removeValue(forKey: "raster") { object["_0"] = raster }
        if kind == "species", let species = object.removeValue(forKey: "species") { object["_0"] = species }
        return [kind: object]
    }

    @Test(arguments: 0..<4)
    func encodingsAreTaggedByKindAndReadInTheOlderForm(index: Int) throws {
        let encoding = Self.encodings[index]
        let written = try sitelensJSONEncoder().encode(encoding)
        let found = keys(try object(written))
        #expect(!found.contains { $0.hasPrefix("_") }, "\(String(decoding: written, as: UTF8.self))")
        #expect(found.contains("kind"))
        #expect(try sitelensJSONDecoder().decode(InputEncoding.self, from: written) == encoding)
        let older = try JSONSerialization.data(withJSONObject: legacy(try object(written)))
        #expect(keys(try object(older)).contains("_0") == (index != 0))
        #expect(try sitelensJSONDecoder().decode(InputEncoding.self, from: older) == encoding)
    }

    @Test func channelsReadInBothForms() throws {
        let decoder = sitelensJSONDecoder()
        let pairs: [(String, String, RasterSettings.Channels)] = [
            (#"{"kind":"single"}"#, #"{"single":{}}"#, .single),
            (#"{"kind":"species","species":["O","Cu"]}"#, #"{"species":{"_0":["O","Cu"]}}"#, .species(["O", "Cu"])),
            (#"{"kind":"descriptor","name":"Z","weights":{"O":8}}"#, #"{"descriptor":{"name":"Z","weights":{"O":8}}}"#,
             .descriptor(name: "Z", weights: ["O": 8])),
        ]
        for (tagged, older, channels) in pairs {
            #expect(try decoder.decode(RasterSettings.Channels.self, from: Data(tagged.utf8)) == channels)
            #expect(try decoder.decode(RasterSettings.Channels.self, from: Data(older.utf8)) == channels)
            #expect(String(decoding: try sitelensJSONEncoder().encode(channels), as: UTF8.self) == tagged)
        }
        // Neither form, or two cases at once, is refused rather than read as one of them.
        for bad in [#"{"kind":"colour"}"#, #"{"single":{},"species":{"_0":[]}}"#, #"{}"#] {
            #expect(throws: DecodingError.self) { try decoder.decode(RasterSettings.Channels.self, from: Data(bad.utf8)) }
        }
        #expect(throws: DecodingError.self) { try decoder.decode(InputEncoding.self, from: Data(#"{"image":{},"sites":{}}"#.utf8)) }
    }

    /// A member file in the older form loads to the same model, and saving it again writes the
    /// same tensor bytes, with the description in the tagged form.
    @Test func anOlderMemberFileLoadsAndKeepsItsTensorBytes() throws {
        let folder = try temporaryFolder()
        let raster = RasterSettings(gridSize: 9, extent: 4.8, sigma: 0.4, depth: 2, channels: .species(["Cu", "Pt"]))
        let encoding = InputEncoding.patches(raster, patchSize: 9, spacing: 0.6)
        let shape = encoding.itemShape
        let architecture = Architecture.atomic(patch: shape.height, channels: shape.channels, filters: 2, hidden: 4)
        let model = try EnergyModel(modelDescription: ModelDescription(architecture: architecture, encoding: encoding,
                                                                     normalisation: TargetNormalisation(mean: 0.5, scale: 0.1)),
                                    parameters: try Network(architecture).initialParameters(seed: 3))
        try model.save(to: folder, name: "member-0")
        let json = folder.appendingPathComponent("member-0.json"), tensors = folder.appendingPathComponent("member-0.safetensors")
        let original = try Data(contentsOf: tensors)
        var member = try #require(try object(Data(contentsOf: json)) as? [String: Any])
        member["encoding"] = member["encoding"].map(legacy)
        try JSONSerialization.data(withJSONObject: member).write(to: json)
        #expect(keys(try object(Data(contentsOf: json))).contains("_0"))
        let loaded = try EnergyModel.load(from: folder, name: "member-0")
        #expect(loaded.modelDescription == model.modelDescription && loaded.parameters == model.parameters)
        try loaded.save(to: folder, name: "member-0")
        #expect(try Data(contentsOf: tensors) == original)
        #expect(!keys(try object(Data(contentsOf: json))).contains { $0.hasPrefix("_") })
    }
}
