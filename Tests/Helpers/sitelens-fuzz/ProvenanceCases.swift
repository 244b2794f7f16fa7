import Basics
import Foundation
import Training

/// Mutations of what a run records about how it was made (`provenance`, issue 20) and of the
/// best-weights fields a checkpoint carries (`--keep best`, `--patience`, the plateau schedule).
extension FuzzCase {
    static let provenanceFields = ["commandLine", "version", "ranks", "nodes", "host", "started", "finished", "configFile",
                                   "configFile.path", "configFile.contents"]
    static let provenanceValues = ["-1", "0", "3", "1e308", "\"\"", "null", "[]", "{}", "true", "[\"\"]", "\"garbage\"",
                                   "\"2026-13-45T99:00:00Z\"", "\"2026-12-04T10:00:00Z\"", "{\"path\": \"\", \"contents\": \"\"}"]

    /// The provenance a finished run writes: the command, one node, a config file.
    static func writtenProvenance(dataFile: URL) -> RunProvenance {
        RunProvenance(commandLine: ["/usr/bin/sitelens", "train", dataFile.path, "--config", "options.json"], version: "0.0.0 (fuzz)",
                      ranks: 2, nodes: 1, host: "node1", started: "2026-12-04T09:00:00Z", finished: "2026-12-04T09:05:00Z",
                      configFile: RunProvenance.ConfigFile(path: "options.json", contents: "{\"epochs\": 3}"))
    }

    /// `text` (run.json) with one field of `provenance` (or of its `configFile`) replaced or dropped.
    mutating func mutatingProvenance(_ text: String) throws -> [UInt8] {
        guard var record = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
              var provenance = record["provenance"] as? [String: Any] else { return Array(text.utf8) }
        let field = Self.provenanceFields[generator.nextIndex(below: Self.provenanceFields.count)]
        let dropped = generator.nextIndex(below: 5) == 0
        let fragment = Self.provenanceValues[generator.nextIndex(below: Self.provenanceValues.count)]
        let value = dropped ? nil : try JSONSerialization.jsonObject(with: Data(fragment.utf8), options: .fragmentsAllowed)
        mutation = "provenance.\(field)" + (dropped ? ":drop" : "=\(fragment)")
        let path = field.split(separator: ".").map(String.init)
        if path.count == 2, var inner = provenance[path[0]] as? [String: Any] {
            inner[path[1]] = value
            provenance[path[0]] = inner
        } else {
            provenance[path[0]] = value
        }
        record["provenance"] = provenance
        return Array(try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])).map { $0 }
    }

    /// A provenance value no run writes, or nil.
    static func impossibleProvenance(_ part: RunProvenance) -> String? {
        if part.commandLine.first?.isEmpty != false { return "commandLine \(part.commandLine)" }
        if part.ranks < 1 || !(1...max(part.ranks, 1)).contains(part.nodes) { return "ranks \(part.ranks), nodes \(part.nodes)" }
        for (name, time) in [("started", part.started), ("finished", part.finished ?? part.started)]
        where (try? Date(time, strategy: .iso8601)) == nil {
            return "\(name) \(time)"
        }
        if let file = part.configFile, file.path.isEmpty || file.contents.utf8.count > RunProvenance.ConfigFile.byteLimit {
            return "configFile path '\(file.path)'"
        }
        return nil
    }

    /// Fit progress a checkpoint at `epoch` of a run keeping the best weights may carry: a best
    /// epoch at or before it with its validation error, and counts within the epochs.
    mutating func writtenFitProgress(epoch: Int) -> FitProgress {
        var fit = FitProgress()
        fit.bestEpoch = 1 + generator.nextIndex(below: epoch)
        fit.bestValidationMSE = generator.uniform(1e-4, 1)
        fit.epochsWithoutImprovement = epoch - (fit.bestEpoch ?? epoch)
        fit.plateauWait = generator.nextIndex(below: fit.epochsWithoutImprovement + 1)
        fit.reductions = generator.nextIndex(below: epoch + 1)
        fit.stopped = generator.nextIndex(below: 4) == 0
        return fit
    }

    /// Changes one best-weights field of `checkpoint` to a value no run writes; the label.
    mutating func changeFitField(_ checkpoint: inout Checkpoint) -> String {
        let epoch = checkpoint.header.epoch
        let pick = generator.nextIndex(below: 7)
        var fit = checkpoint.header.fit
        switch pick {
        case 0: fit.bestEpoch = [0, -1, epoch + 1][generator.nextIndex(below: 3)]
        case 1: fit.bestValidationMSE = [-1, .nan, .infinity][generator.nextIndex(below: 3)]
        case 2: (fit.bestEpoch, fit.bestValidationMSE) = fit.bestEpoch == nil ? (1, nil) : (nil, fit.bestValidationMSE)
        case 3: fit.epochsWithoutImprovement = [-1, epoch + 1][generator.nextIndex(below: 2)]
        case 4: fit.plateauWait = [-1, epoch + 1][generator.nextIndex(below: 2)]
        case 5: fit.reductions = [-1, epoch + 1, Int.max][generator.nextIndex(below: 3)]
        default:
            // The best parameters dropped from a checkpoint with a best epoch, or added to one without.
            let best = checkpoint.bestParameters == nil ? checkpoint.parameters : nil
            checkpoint = Checkpoint(header: checkpoint.header, parameters: checkpoint.parameters, optimizer: checkpoint.optimizer, bestParameters: best)
            return "header:keepsBest=\(checkpoint.header.keepsBest)"
        }
        checkpoint.header.fit = fit
        let field = ["bestEpoch", "bestValidationMSE", "bestEpoch/bestValidationMSE", "epochsWithoutImprovement", "plateauWait", "reductions"][pick]
        return "header:fit.\(field)=\(fit.bestEpoch.map { "\($0)" } ?? "nil")/\(fit.bestValidationMSE.map { "\($0)" } ?? "nil")"
            + "/\(fit.epochsWithoutImprovement)/\(fit.plateauWait)/\(fit.reductions)"
    }
}
