import ArgumentParser
import Basics
import Foundation
import Structures
import Training

/// The data options a finished run recorded in `run.json` (`options`, by command-line name),
/// which `decompose` and `predict` apply where the command line leaves them out, so the
/// structures are read as training read them (a left-out `--site-rule` would otherwise give
/// every site the same label and an empty decomposition).
package struct RecordedDataOptions {
    var values: [String: String] = [:]
    /// run.json's path, for errors naming a recorded value no run writes.
    var file = ""

    init() {}

    /// The options recorded in the run in `folder`.
    init(run folder: RunFolder) throws {
        values = try RunRecord.read(from: folder).options
        file = folder.file(.record).path
    }

    func value<T>(_ name: String, _ parse: (String) -> T?) throws -> T? {
        guard let text = values[name] else { return nil }
        guard let parsed = parse(text) else {
            throw InputError(file: file, field: "options.\(name)", "'\(text)' is not a value \(name) takes")
        }
        return parsed
    }
}

/// Every data option with a value: given, else the run's, else the default.
struct ChosenDataOptions {
    var target: String
    var group: String?
    var sites: String?
    var skipInvalid: Bool
    var energyKey: String
    var nnDistance: Double
    var adsorbateHeight: Double
    var siteRule: SiteRule
}

extension DataOptions {
    static let defaultTarget = SiteTable.Options().targetColumn
    static let defaultEnergyKey = ExtXYZ.Options().energyKey
    static let defaultNNDistance = SiteTemplate.seedNearestNeighbour
    static let defaultAdsorbateHeight = SiteTemplate.seedAdsorbateHeight
    static let defaultSiteRule = SiteRule.column
    /// How run.json writes an option left out whose absence means "all".
    static let allRows = "(all rows)", allButTargetAndGroup = "(all but target and group)"
    static let given = "given", notGiven = "not given"

    func resolved(_ recorded: RecordedDataOptions) throws -> ChosenDataOptions {
        let nn = try nnDistance ?? recorded.value("--nn-distance") { Double($0) } ?? Self.defaultNNDistance
        let height = try adsorbateHeight ?? recorded.value("--adsorbate-height") { Double($0) } ?? Self.defaultAdsorbateHeight
        do {
            try Self.checkNNDistance(nn)
            try Self.checkAdsorbateHeight(height)
        } catch { throw InputError(file: recorded.file, field: "options", "\(error)") }
        let recordedSkip = try recorded.value("--skip-invalid") { [Self.given, Self.notGiven].contains($0) ? $0 == Self.given : nil }
        return ChosenDataOptions(
            target: try target ?? recorded.value("--target") { $0 } ?? Self.defaultTarget,
            group: try group ?? recorded.value("--group") { $0 }.flatMap { $0 == Self.allRows ? nil : $0 },
            sites: try sites ?? recorded.value("--sites") { $0 }.flatMap { $0 == Self.allButTargetAndGroup ? nil : $0 },
            skipInvalid: skipInvalid || recordedSkip == true,
            energyKey: try energyKey ?? recorded.value("--energy-key") { $0 } ?? Self.defaultEnergyKey,
            nnDistance: nn, adsorbateHeight: height,
            siteRule: try siteRule ?? recorded.value("--site-rule") { SiteRule(rawValue: $0) } ?? Self.defaultSiteRule)
    }

    /// The data options a run records (those of its input's format), by command-line name.
    func recorded() throws -> [String: String] {
        let chosen = try resolved(RecordedDataOptions())
        if StructureSource(path: input ?? "", format: format).resolvedFormat == .sites {
            return ["--target": chosen.target, "--group": chosen.group ?? Self.allRows, "--sites": chosen.sites ?? Self.allButTargetAndGroup,
                    "--skip-invalid": chosen.skipInvalid ? Self.given : Self.notGiven,
                    "--nn-distance": "\(chosen.nnDistance)", "--adsorbate-height": "\(chosen.adsorbateHeight)"]
        }
        return ["--energy-key": chosen.energyKey, "--site-rule": chosen.siteRule.rawValue]
    }

    /// These options with the run in `folder`'s recorded ones where they were left out, and
    /// the run's data file when no input was given and `needsInput`.
    func reusing(run folder: RunFolder, needsInput: Bool) throws -> (DataOptions, RecordedDataOptions) {
        let recorded = try RecordedDataOptions(run: folder)
        var options = self
        if options.input == nil && needsInput { options.input = try RunRecord.read(from: folder).dataFile }
        return (options, recorded)
    }
}
