import Basics
import Foundation
import Networks
import Structures
import Training

/// Cases whose input is a run folder or a checkpoint rather than a data file (issue 24, item 6).
extension FuzzCase {
    /// A copy, in this case's folder, of one of two small finished runs (ensembles of 1 and 2) as
    /// `train` leaves them: members in `model/` and a complete `run.json` naming them, and the
    /// data file. Each is built once per work folder from the seed alone (writing a run costs a
    /// few fsyncs, copying it none), so case k stays the same whichever worker runs it.
    mutating func copyOfFinishedRun() throws -> (run: RunFolder, dataFile: URL, structures: [Structure]) {
        let ensemble = 1 + generator.nextIndex(below: 2)
        let base = folder.deletingLastPathComponent().appendingPathComponent("finished-run-\(ensemble)")
        let dataFile = base.appendingPathComponent("input.csv")
        if !FileManager.default.fileExists(atPath: base.appendingPathComponent("built").path) {
            try? FileManager.default.removeItem(at: base)  // left half-built by a worker that died
            var builder = self
            builder.generator = SeededGenerator(seed: seed, stream: UInt64.max - UInt64(ensemble))
            try builder.buildFinishedRun(in: base, ensemble: ensemble)
        }
        let run = RunFolder(folder.appendingPathComponent("run"))
        try FileManager.default.copyItem(at: base.appendingPathComponent("run"), to: run.url)
        let table = try String(contentsOf: dataFile, encoding: .utf8)
        return (run, dataFile, try SiteTemplate.fcc111Top().structures(from: SiteTable.parse(table, file: dataFile.path)))
    }

    /// Writes `base/input.csv` and the run `base/run` trained on it, then the marker `base/built`.
    mutating func buildFinishedRun(in base: URL, ensemble: Int) throws {
        let run = RunFolder(base.appendingPathComponent("run"))
        try FileManager.default.createDirectory(at: run.url, withIntermediateDirectories: true)
        let table = baseSiteTable()
        let dataFile = base.appendingPathComponent("input.csv")
        try Data(table.utf8).write(to: dataFile)
        let structures = try SiteTemplate.fcc111Top().structures(from: SiteTable.parse(table, file: dataFile.path))
        var options = ModelOptions()
        options.hidden = 3
        var plan = TrainingPlan()
        (plan.ensemble, plan.seed, plan.epochs) = (ensemble, generator.next(), 3)
        var models: [EnergyModel] = []
        for member in 0..<ensemble {
            let model = try randomModel(.sites, structures: structures, options: options)
            try model.save(to: run.modelFolder, name: RunFolder.memberName(member))
            models.append(model)
        }
        var record = RunRecord(plan: plan, architecture: models[0].modelDescription.architecture, encoding: models[0].modelDescription.encoding,
                               dataFile: dataFile.path, dataHash: try contentHash(of: dataFile), structureCount: structures.count)
        record.complete = true
        record.provenance = Self.writtenProvenance(dataFile: dataFile)
        try record.write(to: run)
        try Data().write(to: base.appendingPathComponent("built"))
    }

    static let recordKeys = ["version", "ensemble", "ensemble", "validationFraction", "testFraction", "batchSize", "epochs",
                             "structureCount", "seed", "dataFile", "dataHash", "optimizer", "complete"]
    static let recordValues = ["-3", "0", "-1", "2", "3", "1.5", "-0.1", "0.999", "1e308", "9223372036854775807", "\"\"", "null",
                               "true", "false", "[]", "{}", "\"adam\""]

    /// A finished run's `run.json` with a top-level value replaced, a key dropped or repeated, a
    /// token of its model description replaced, or the file cut; then loaded as `predict` and
    /// `decompose` load it. Accepting a record no run writes is a silent accept.
    mutating func runRecordCase() throws {
        let (run, dataFile, structures) = try copyOfFinishedRun()
        path = run.path
        let url = run.file(.record)
        let text = try String(contentsOf: url, encoding: .utf8)
        let key = Self.recordKeys[generator.nextIndex(below: Self.recordKeys.count)]
        let value = Self.recordValues[generator.nextIndex(below: Self.recordValues.count)]
        var mutated: [UInt8]
        switch generator.nextIndex(below: 7) {
        case 0, 1:
            mutation = "\(key)=\(value)"
            mutated = Array(Self.replacingTopLevel(key, in: text, with: value).utf8)
        case 2:
            mutation = "drop:\(key)"
            mutated = Array(Self.replacingTopLevel(key, in: text, with: nil).utf8)
        case 3:
            mutation = "repeat:\(key)=\(value)"
            mutated = Array(text.replacingOccurrences(of: "{", with: "{\"\(key)\": \(value), ", options: [], range: text.range(of: "{")).utf8)
        case 4:
            mutation = "token"
            mutated = mutateDescription(text)
        case 5:
            mutated = try mutatingProvenance(text)
        default:
            mutation = "cut"
            mutated = Array(text.utf8.prefix(generator.nextIndex(below: text.utf8.count)))
        }
        try Data(mutated).write(to: url)
        announce()
        let members = try loadTrainedEnsemble(from: run)
        let roles = try dataRoles(of: run, dataFile: dataFile, count: structures.count)
        guard roles.labels.count == structures.count else { throw FuzzGarbage(message: "\(roles.labels.count) roles for \(structures.count) structures") }
        for member in members {
            for structure in structures.prefix(3) {
                let energy = try member.predict(structure)
                guard energy.isFinite else { throw FuzzGarbage(message: "prediction \(energy)") }
            }
        }
        if let impossible = Self.impossibleValue(in: try RunRecord.read(from: run)) {
            throw FuzzSilentAccept(message: "\(url.path) accepted with \(impossible)")
        }
    }

    /// `text` (a pretty-printed JSON object) with the top-level `key`'s value replaced by
    /// `value`, or its line dropped when `value` is nil.
    static func replacingTopLevel(_ key: String, in text: String, with value: String?) -> String {
        var lines = text.components(separatedBy: "\n")
        guard let at = lines.firstIndex(where: { $0.hasPrefix("  \"\(key)\"") }) else { return text }
        let hasComma = lines[at].hasSuffix(",")
        if let value {
            lines[at] = "  \"\(key)\" : \(value)" + (hasComma ? "," : "")
        } else {
            lines.remove(at: at)
            if !hasComma, at > 0, lines[at - 1].hasSuffix(",") { lines[at - 1].removeLast() }
        }
        return lines.joined(separator: "\n")
    }

    /// A value of an accepted record that no run writes, or nil.
    static func impossibleValue(in record: RunRecord) -> String? {
        if record.version != RunRecord.currentVersion { return "version \(record.version)" }
        if record.ensemble < 1 { return "ensemble \(record.ensemble)" }
        if record.batchSize < 1 { return "batchSize \(record.batchSize)" }
        if record.epochs < 0 { return "epochs \(record.epochs)" }
        if record.structureCount < 0 { return "structureCount \(record.structureCount)" }
        let (validation, test) = (record.validationFraction, record.testFraction)
        if !(0..<1).contains(validation) || !(0..<1).contains(test) || validation + test >= 1 {
            return "fractions validation \(validation), test \(test)"
        }
        if record.dataFile.isEmpty || record.dataHash.isEmpty { return "an empty data file name or hash" }
        for part in [record.provenance].compactMap({ $0 }) + (record.earlierParts ?? []) {
            if let impossible = impossibleProvenance(part) { return "provenance: \(impossible)" }
        }
        return nil
    }

    // MARK: Checkpoints

    /// A member's checkpoint, written by `Checkpoint.write`, then damaged (a bit flipped in the
    /// weights or moments, a NaN written there, a byte changed anywhere, the file cut) or
    /// rewritten with a header field changed; then read as `--resume` reads it. Damage that
    /// reads back as different content, or a header no run writes that resume accepts, is a
    /// silent accept.
    mutating func checkpointCase() throws {
        let (original, record, batches) = try writtenCheckpoint()
        let run = RunFolder(folder.appendingPathComponent("run"))
        let url = run.checkpoint(member: original.header.member)
        path = url.path
        var bytes = Array(try Data(contentsOf: url))
        let buffers = 1 + original.optimizer.kind.stateBufferNames.count + (original.bestParameters == nil ? 0 : 1)
        let payloadStart = bytes.count - 4 - 4 * original.parameters.count * buffers  // the CRC-32 comes last
        switch generator.nextIndex(below: 6) {
        case 0:
            let at = payloadStart + generator.nextIndex(below: bytes.count - payloadStart)
            mutation = "payload-bit"
            bytes[at] ^= UInt8(1) << UInt8(generator.nextIndex(below: 8))
        case 1:
            let at = payloadStart + 4 * generator.nextIndex(below: (bytes.count - 4 - payloadStart) / 4)
            mutation = "payload-nan"
            withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { bytes.replaceSubrange(at..<(at + 4), with: $0) }
        case 2:
            let at = generator.nextIndex(below: bytes.count)
            mutation = at < payloadStart ? "header-byte" : "payload-byte"
            bytes[at] = UInt8(truncatingIfNeeded: generator.next())
        case 3:
            mutation = "cut"
            bytes.removeSubrange(generator.nextIndex(below: bytes.count)...)
        default:
            // Rewritten whole, checksum and all: only resume's checks of the header stand in the way.
            var changed = original
            mutation = generator.nextIndex(below: 3) == 0 ? changeFitField(&changed) : changeHeaderField(&changed.header)
            try changed.write(to: url)
            bytes = Array(try Data(contentsOf: url))
        }
        try Data(bytes).write(to: url)
        announce()
        let read = try Checkpoint.read(from: url)
        // As resume checks it (ResumePoint), against the run it continues.
        try read.verify(file: url.path, member: original.header.member, run: record, epochs: record.epochs,
                        parameterCount: original.parameters.count, batchesPerEpoch: batches)
        if mutation.hasPrefix("header:") || read != original {
            throw FuzzSilentAccept(message: "\(url.path) damaged (\(mutation)) but accepted for resume without a word")
        }
    }

    /// A checkpoint of a member of a small finished run, after some of its epochs, written into
    /// this case's run folder by `Checkpoint.write`; the run's record; its batches per epoch.
    mutating func writtenCheckpoint() throws -> (Checkpoint, run: RunRecord, batchesPerEpoch: Int) {
        let (run, _, _) = try copyOfFinishedRun()
        let record = try RunRecord.read(from: run)
        let count = 8 + generator.nextIndex(below: 120)
        let epoch = 1 + generator.nextIndex(below: record.epochs)
        let member = generator.nextIndex(below: record.ensemble)
        let batches = 3
        var optimizer = Optimizer(kind: record.optimizer, learningRate: 1e-3, parameterCount: count)
        optimizer.step = epoch * batches
        if record.optimizer == .adam {
            optimizer.m = (0..<count).map { _ in Float(generator.uniform(-0.01, 0.01)) }
            optimizer.v = (0..<count).map { _ in Float(generator.uniform(0, 1e-4)) }
        }
        // Half keep a best epoch's parameters (the run keeps the best: `--keep best`, the default).
        let keepsBest = generator.nextIndex(below: 2) == 0
        let header = Checkpoint.Header(member: member, epoch: epoch, step: epoch * batches, memberSeed: record.splitPlan.memberSeed(member),
                                       groupSize: 1, parameterCount: count, optimizer: record.optimizer, learningRate: 1e-3, run: record,
                                       fit: keepsBest ? writtenFitProgress(epoch: epoch) : FitProgress())
        let parameters = (0..<count).map { _ in Float(generator.uniform(-0.3, 0.3)) }
        let best = keepsBest ? parameters.map { $0 * 0.5 } : nil
        let checkpoint = Checkpoint(header: header, parameters: parameters, optimizer: optimizer, bestParameters: best)
        let url = run.checkpoint(member: member)
        try FileManager.default.createDirectory(at: run.checkpointFolder, withIntermediateDirectories: true)
        try checkpoint.write(to: url)
        return (try Checkpoint.read(from: url), record, batches)
    }

    /// Sets one header field to a value a damaged or foreign checkpoint might carry; the label.
    mutating func changeHeaderField(_ header: inout Checkpoint.Header) -> String {
        let pick = generator.nextIndex(below: 9)
        switch pick {
        case 0: header.epoch = -2
        case 1: header.epoch = 999
        case 2: header.epoch = [0, header.run.epochs + 1][generator.nextIndex(below: 2)]
        case 3: header.parameterCount += [-1, 1, 1 << 40][generator.nextIndex(below: 3)]
        case 4: header.step = [-1, Int.max][generator.nextIndex(below: 2)]
        case 5: header.run.seed &+= 1
        case 6: header.member += 1
        case 7: header.learningRate = [-1, 0, .infinity][generator.nextIndex(below: 3)]
        default: header.groupSize = [0, -1][generator.nextIndex(below: 2)]
        }
        let field = ["epoch", "epoch", "epoch", "parameterCount", "step", "run.seed", "member", "learningRate", "groupSize"][pick]
        let value: String = switch field {
        case "epoch": "\(header.epoch)"
        case "parameterCount": "\(header.parameterCount)"
        case "step": "\(header.step)"
        case "run.seed": "\(header.run.seed)"
        case "member": "\(header.member)"
        case "learningRate": "\(header.learningRate)"
        default: "\(header.groupSize)"
        }
        return "header:\(field)=\(value)"
    }
}

/// Damaged input accepted as if whole: a checkpoint that reads back with other content than was
/// written, or a run file accepted with a value no run writes.
struct FuzzSilentAccept: Error { let message: String }

/// Refused by a check after reading, in that check's own words (which may not name the file).
struct FuzzResumeRefusal: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
