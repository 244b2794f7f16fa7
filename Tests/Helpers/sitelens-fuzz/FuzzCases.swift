import ArgumentParser
import Basics
import Foundation
import Images
import Networks
import SiteLensCommands
import Structures

/// One seeded hostile case of `sitelens-fuzz`: a mutated input file (or model, option values,
/// run record or checkpoint) and the path through SiteLens that a command would take with it.
struct FuzzCase {
    enum Kind: String, CaseIterable {
        case extxyz, sites, model, options
        case runRecord = "run-record", checkpoint
    }

    let kind: Kind
    let seed: UInt64
    let index: Int
    let folder: URL
    var generator: SeededGenerator
    /// The file (or model folder) the case feeds in; a clean rejection names it.
    var path = ""
    /// What was done to the input, where a kind names it (e.g. `ensemble=-3`): told to the
    /// supervisor before the input is read, so a crash or hang is reported with it.
    var mutation = ""

    init(seed: UInt64, index: Int, folder: URL) {
        self.seed = seed
        self.index = index
        self.folder = folder.appendingPathComponent("case-\(index)")
        generator = SeededGenerator(seed: seed, stream: UInt64(index))
        // Option cases cost most (argument parsing, ~0.1 s in a debug build), so they are one
        // case in ten; files, run records and checkpoints make up the rest.
        kind = [Kind.extxyz, .extxyz, .extxyz, .sites, .sites, .model, .model, .options, .runRecord, .checkpoint][index % 10]
    }

    /// Verdict and message (the error's text, or a note on what was accepted).
    func run() -> (verdict: FuzzVerdict, message: String) {
        var copy = self
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            switch kind {
            case .extxyz: try copy.extxyzCase()
            case .sites: try copy.sitesCase()
            case .model: try copy.modelCase()
            case .options: try copy.optionsCase()
            case .runRecord: try copy.runRecordCase()
            case .checkpoint: try copy.checkpointCase()
            }
            return (.accepted, copy.labelled("accepted"))
        } catch let garbage as FuzzGarbage {
            return (.garbage, copy.labelled(garbage.message))
        } catch let silent as FuzzSilentAccept {
            return (.silentAccept, copy.labelled(silent.message))
        } catch {
            let message = "\(error)"
            return (FuzzCase.namesItsSource(message, path: copy.path, kind: kind) ? .rejected : .unclear, copy.labelled(message))
        }
    }

    func labelled(_ message: String) -> String { mutation.isEmpty ? message : "{\(mutation)} \(message)" }

    /// Tells the supervisor what this case did to its input, before the input is read.
    func announce() {
        print("mutation \(index) \(mutation)")
        fflush(nil)
    }

    func removeFiles() { try? FileManager.default.removeItem(at: folder) }

    /// A clean rejection names the file and line (extxyz, site tables), the file (model files)
    /// or the option.
    static func namesItsSource(_ message: String, path: String, kind: Kind) -> Bool {
        switch kind {
        case .extxyz, .sites:
            // FILE:LINE for content; FILE: alone only for what concerns the whole file (empty,
            // no rows left).
            guard !path.isEmpty, let range = message.range(of: path + ":") else { return message.contains("--") }
            return message[range.upperBound...].first?.isNumber == true || message[range.upperBound...].hasPrefix(" ")
        case .model, .runRecord, .checkpoint:
            return !path.isEmpty && message.contains(path)
        case .options:
            return message.contains("--") || message.contains("raster setting '") || (!path.isEmpty && message.contains(path))
        }
    }

    // MARK: Inputs

    static let elements = ["Fe", "Co", "Ni", "Cu", "Mo", "Pt"]

    mutating func baseStructures() -> [Structure] {
        (0..<(1 + generator.nextIndex(below: 3))).map { frame in
            let count = 2 + generator.nextIndex(below: 4)
            let symbols = (0..<count).map { _ in Self.elements[generator.nextIndex(below: 4)] }
            let positions = (0..<count).map { _ in SIMD3(generator.uniform(0, 5), generator.uniform(0, 5), generator.uniform(0, 3)) }
            let periodic = generator.nextIndex(below: 2) == 0
            let a = generator.uniform(5, 8)
            return Structure(symbols: symbols, positions: positions,
                             cell: periodic ? [SIMD3(a, 0, 0), SIMD3(0, a, 0), SIMD3(0, 0, 15)] : nil,
                             pbc: periodic ? [true, true, frame % 2 == 0] : [false, false, false],
                             energy: generator.uniform(-5, 0))
        }
    }

    mutating func baseSiteTable() -> String {
        let sites = SiteTemplate.fcc111Top().siteLabels
        var text = (sites + ["Eads", "Adsorbate"]).joined(separator: ",") + "\n"
        for _ in 0..<(3 + generator.nextIndex(below: 4)) {
            let row = sites.map { _ in Self.elements[generator.nextIndex(below: 5)] }
            text += (row + [String(generator.uniform(-2, 1)), generator.nextIndex(below: 2) == 0 ? "COOH" : "CO"]).joined(separator: ",") + "\n"
        }
        return text
    }

    /// Values a hostile user (or a corrupted file) puts where a number, symbol or name belongs.
    static let hostileTokens = [
        "9223372036854775807", "-9223372036854775808", "4611686018427387904", "3037000500", "2147483648", "-1", "0", "1",
        "1e308", "-1e308", "1e5", "1e9", "0.001", "1e-300", "nan", "NaN", "inf", "-inf", "", "\0", "-2.4\0 99999", "\"",
        "\"a", "{", "}", "Xx", "X", "T", "F", "Cu", ":", "=", ",", "species:S:1:pos:R:9223372036854775807",
        "species:S:1:pos:R:3:site:S:4611686018427387904", "Lattice=\"0.001 0 0 0 0.001 0 0 0 0.001\"", "pbc=\"T T\"",
        "Lattice=\"1e5 0 0 0 1e5 0 0 0 1e5\"", "Lattice=\"1 0 0 1 0 0 0 0 1\"", "T/B1", "Eads", "\r", "\n", "  ",
    ]

    /// 1–3 mutations of `text`: hostile tokens in place of tokens, NUL bytes, dropped, doubled
    /// or cut lines, flipped bytes.
    mutating func mutate(_ text: String, separators: Set<UInt8>) -> [UInt8] {
        var bytes = Array(text.utf8)
        for _ in 0..<(1 + generator.nextIndex(below: 3)) where !bytes.isEmpty {
            let at = generator.nextIndex(below: bytes.count)
            switch generator.nextIndex(below: 8) {
            case 0, 1, 2:
                // Replace the token around `at`.
                var start = at, end = at
                while start > 0 && !separators.contains(bytes[start - 1]) { start -= 1 }
                while end < bytes.count && !separators.contains(bytes[end]) { end += 1 }
                let token = Self.hostileTokens[generator.nextIndex(below: Self.hostileTokens.count)]
                bytes.replaceSubrange(start..<end, with: Array(token.utf8))
            case 3: bytes.insert(0, at: at)
            case 4: bytes.removeSubrange(at...)
            case 5:
                let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                let line = generator.nextIndex(below: lines.count)
                var copy = Array(lines)
                if generator.nextIndex(below: 2) == 0 { copy.remove(at: line) } else { copy.insert(lines[line], at: line) }
                bytes = Array(copy.joined(separator: [UInt8(ascii: "\n")]))
            case 6: bytes[at] = UInt8(truncatingIfNeeded: generator.next())
            default: bytes.insert(UInt8(ascii: "\""), at: at)
            }
        }
        return bytes
    }

    mutating func randomModel(_ kind: ModelKind, structures: [Structure], options: ModelOptions) throws -> EnergyModel {
        let (architecture, encoding) = try makeModel(kind, for: structures, options: options)
        let count = try Network(architecture).parameterCount
        return try EnergyModel(modelDescription: ModelDescription(architecture: architecture, encoding: encoding,
                                                             normalisation: TargetNormalisation(mean: -1, scale: 0.5)),
                               parameters: (0..<count).map { _ in Float(generator.uniform(-0.3, 0.3)) })
    }

    mutating func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    // MARK: Cases

    /// A mutated extxyz file, read for training, rasterised and run through a small atomic model.
    mutating func extxyzCase() throws {
        let text = ExtXYZ.format(baseStructures())
        path = try write(mutate(text, separators: [32, 10, 9, 61, 34]), "input.xyz")
        let options = ExtXYZ.Options(requireEnergy: true)
        let structures = try StructureSource(path: path, extxyzOptions: options).load().structures
        // The indexed reading `train` uses: frames found by one scan, then parsed one by one.
        let index = try ExtXYZFrameIndex.scan(path: path)
        for frame in 0..<index.frameCount { _ = try index.frame(frame, options: options) }
        let rasteriser = try Rasteriser(settings: RasterSettings(gridSize: 16, extent: 6, sigma: 0.5))
        for structure in structures.prefix(3) { try checkImage(rasteriser.image(of: structure)) }
        var model = ModelOptions()
        (model.patchSize, model.atomicFilters, model.atomicHidden) = (5, 2, 3)
        try checkModel(.atomic, structures: structures, options: model)
    }

    /// A mutated site table, read through the template and run through a small sites model.
    mutating func sitesCase() throws {
        path = try write(mutate(baseSiteTable(), separators: [44, 10]), "input.csv")
        var siteOptions = SiteTable.Options()
        if generator.nextIndex(below: 2) == 0 { try siteOptions.select(group: "Adsorbate=COOH") }
        let structures = try StructureSource(path: path, siteOptions: siteOptions).load().structures
        var options = ModelOptions()
        options.hidden = 3
        try checkModel(.sites, structures: structures, options: options)
    }

    /// The model of `kind` for `structures` with small random weights predicts finite energies.
    mutating func checkModel(_ kind: ModelKind, structures: [Structure], options: ModelOptions) throws {
        let model = try randomModel(kind, structures: structures, options: options)
        for structure in structures.prefix(3) {
            let energy = try model.predict(structure)
            guard energy.isFinite else { throw FuzzGarbage(message: "prediction \(energy)") }
        }
    }

    func checkImage(_ image: RasterImage) throws {
        guard image.pixels.allSatisfy(\.isFinite) else { throw FuzzGarbage(message: "non-finite pixel") }
        guard image.atomsOutside > 0 || image.pixels.contains(where: { $0 > 0 }) else {
            throw FuzzGarbage(message: "all-zero image with every atom inside")
        }
    }
}

/// A command line the parser refused, with the message the command would print.
struct FuzzRejection: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

func parseTrain(_ arguments: [String]) throws -> Train? {
    do { return try Train.parseAsRoot(arguments) as? Train }
    catch { throw FuzzRejection(message: Train.message(for: error)) }
}

/// An accepted case whose output is non-finite or empty.
struct FuzzGarbage: Error { let message: String }


extension FuzzCase {
    /// A saved model (sites, atomic or ryczko, small) with its JSON or safetensors file
    /// mutated, loaded and asked for predictions.
    mutating func modelCase() throws {
        let choice = generator.nextIndex(below: 3)
        var options = ModelOptions()
        (options.hidden, options.patchSize, options.atomicFilters, options.atomicHidden) = (3, 5, 2, 3)
        options.raster = RasterSettings(gridSize: 16, extent: 6, sigma: 0.5)
        (options.ryczkoBlocks, options.ryczkoDense) = (1, 4)
        let kind: ModelKind = [.sites, .atomic, .ryczko][choice]
        let structures = kind == .sites
            ? try SiteTemplate.fcc111Top().structures(from: SiteTable.parse(baseSiteTable(), file: "base.csv"))
            : baseStructures()
        let modelFolder = folder.appendingPathComponent("model")
        try randomModel(kind, structures: structures, options: options).save(to: modelFolder, name: "member-0")
        path = modelFolder.path
        if generator.nextIndex(below: 2) == 0 {
            let url = modelFolder.appendingPathComponent("member-0.json")
            let text = try String(contentsOf: url, encoding: .utf8)
            try Data(mutateDescription(text)).write(to: url)
        } else {
            let url = modelFolder.appendingPathComponent("member-0.safetensors")
            try Data(mutateWeights(Array(try Data(contentsOf: url)))).write(to: url)
        }
        let model = try EnergyModel.load(from: modelFolder, name: "member-0")
        for structure in structures.prefix(3) {
            let energy = try model.predict(structure)
            guard energy.isFinite else { throw FuzzGarbage(message: "prediction \(energy)") }
        }
    }

    static let hostileJSON = ["0", "-1", "1e308", "-1e308", "4611686018427387904", "2147483648", "1000000", "1000000000",
                              "1e-300", "NaN", "2305843009213693952", "2147483648,2147483648", "\"sites\"", "\"ryczko\"", "\"atomic\"", "[]", "null", "\"X\"", "\"\"", "{}"]

    /// Numbers, names and lists of the description replaced by hostile JSON values, or dropped.
    mutating func mutateDescription(_ text: String) -> [UInt8] {
        var bytes = Array(text.utf8)
        let separators: Set<UInt8> = [32, 10, 44, 58, 91, 93, 123, 125]
        for _ in 0..<(1 + generator.nextIndex(below: 2)) {
            let at = generator.nextIndex(below: bytes.count)
            var start = at, end = at
            while start > 0 && !separators.contains(bytes[start - 1]) { start -= 1 }
            while end < bytes.count && !separators.contains(bytes[end]) { end += 1 }
            if generator.nextIndex(below: 4) == 0 {
                bytes.removeSubrange(start..<min(end + 1, bytes.count))  // a dropped name and its comma
            } else {
                bytes.replaceSubrange(start..<end, with: Array(Self.hostileJSON[generator.nextIndex(below: Self.hostileJSON.count)].utf8))
            }
        }
        return bytes
    }

    /// Header tokens (shapes, offsets, names) replaced, non-finite or huge values written into
    /// the data, bytes flipped or the file cut.
    mutating func mutateWeights(_ original: [UInt8]) -> [UInt8] {
        var bytes = original
        let headerLength = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        switch generator.nextIndex(below: 4) {
        case 0:
            var header = Array(bytes[8..<(8 + headerLength)])
            header = mutateDescription(String(decoding: header, as: UTF8.self))
            var length = UInt64(header.count).littleEndian
            bytes = withUnsafeBytes(of: &length) { Array($0) } + header + bytes[(8 + headerLength)...]
        case 1:
            let floats = (bytes.count - 8 - headerLength) / 4
            guard floats > 0 else { break }
            let at = 8 + headerLength + 4 * generator.nextIndex(below: floats)
            let bits = [Float.nan, .infinity, 1e30, -1e38][generator.nextIndex(below: 4)].bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.replaceSubrange(at..<(at + 4), with: $0) }
        case 2:
            bytes[generator.nextIndex(below: bytes.count)] = UInt8(truncatingIfNeeded: generator.next())
        default:
            bytes.removeSubrange(generator.nextIndex(below: bytes.count)...)
        }
        return bytes
    }

    /// Option values, for `rasterise` and `train`, that a user's worst day would type.
    static let rasterOptions: [(String, [String])] = [
        ("--grid", ["0", "1", "2", "3037000500", "100000", "-5", "16", "9223372036854775807"]),
        ("--extent", ["0", "-1", "1e308", "nan", "inf", "1e-300", "5", "1e6"]),
        ("--spacing", ["0", "1e308", "nan", "0.1"]),
        ("--sigma", ["1e300", "1e-300", "0", "nan", "-1", "0.3", "inf"]),
        ("--depth", ["0", "1000000", "2", "-1", "1024"]),
        ("--cutoff", ["inf", "nan", "3", "1e308", "5", "20"]),
        ("--species", ["Xx", "Pt", "", ",", "Cu,Cu", "Fe,Co,Ni,Cu,Mo", "X"]),
        ("--channels", ["species", "descriptor", "single", "none"]),
        ("--descriptor", ["nope", "Z", "group"]),
        ("--centre", ["structure", "origin", "nowhere"]),
        ("--nn-distance", ["0", "nan", "-1", "1e308", "2.5", "inf"]),
        ("--adsorbate-height", ["nan", "inf", "-1", "2"]),
        ("--group", ["Adsorbate=COOH", "x", "=", "Adsorbate=", "Nope=1"]),
        ("--format", ["extxyz", "sites", "auto", "png"]),
    ]
    static let trainOptions: [(String, [String])] = rasterOptions + [
        ("--hidden", ["0", "-1", "1000000", "1000000000", "3"]),
        ("--dense", ["0", "1000000000", "1000000", "4"]),
        ("--blocks", ["1000000", "-1", "0", "1", "40"]),
        ("--filters", ["1000000", "0", "2"]),
        ("--patch-size", ["1000", "0", "2", "5", "9223372036854775807"]),
        ("--patch-spacing", ["0", "nan", "-1", "1e308", "0.35"]),
        ("--patch-sigma", ["0", "nan", "1e300", "1e-300", "0.4"]),
        ("--blas-threads", ["100000", "0", "-1", "1"]),
        ("--model", ["sites", "ryczko", "atomic", "other"]),
        ("--epochs", ["0", "-1", "1"]),
        ("--learning-rate", ["nan", "0", "-1", "inf"]),
        ("--validation-fraction", ["nan", "1", "-0.1", "0.5"]),
        ("--descriptor-names", ["nope", "Z", "", ","]),
    ]

    /// `rasterise` run in process, or `train` parsed and taken as far as its model's first
    /// predictions, with 1–3 hostile option values.
    mutating func optionsCase() throws {
        let useTable = generator.nextIndex(below: 2) == 0
        let input = useTable ? try write(Array(baseSiteTable().utf8), "input.csv")
                             : try write(Array(ExtXYZ.format(baseStructures()).utf8), "input.xyz")
        path = input
        let rasterise = generator.nextIndex(below: 2) == 0
        let table = rasterise ? Self.rasterOptions : Self.trainOptions
        var arguments = rasterise
            ? ["rasterise", input, "--grid", "16", "--sigma", "0.4", "--out", folder.appendingPathComponent("out.npy").path]
            : ["train", input, "--grid", "16", "--sigma", "0.4", "--blocks", "1", "--dense", "4", "--patch-size", "5",
               "--filters", "2", "--hidden", "3", "--epochs", "1", "--model", ["sites", "ryczko", "atomic"][generator.nextIndex(below: 3)]]
        for _ in 0..<(1 + generator.nextIndex(below: 3)) {
            let (option, values) = table[generator.nextIndex(below: table.count)]
            arguments += [option, values[generator.nextIndex(below: values.count)]]
        }
        if rasterise && generator.nextIndex(below: 8) == 0 {
            arguments += [["--out", "--preview"][generator.nextIndex(below: 2)], folder.appendingPathComponent("missing/deeper/x").path]
        }
        // Parsed by the subcommand itself (as `sitelens SUBCOMMAND` would), which skips
        // building the whole command tree per case.
        let options = Array(arguments.dropFirst())
        if rasterise {
            var command: Rasterise?
            do { command = try Rasterise.parseAsRoot(options) as? Rasterise }
            catch { throw FuzzRejection(message: Rasterise.message(for: error)) }
            try command?.run()
        } else if let train = try parseTrain(options) {
            let structures = try train.data.source(requireEnergy: true).load().structures
            let store = LoadedStructures(structures)
            let (plan, _) = try train.plan(for: store, leading: LeadingStructures(store))
            try checkModel(plan.kind, structures: structures, options: plan.modelOptions)
        }
    }
}
