import Images
import Networks
import Structures
import Training

extension Train {
    /// The options beyond `TrainingPlan`'s own fields that shape what this run trains on and
    /// what it trains: the data's target and selection, and the model's options for its kind,
    /// each as its command-line name and the value given. `run.json` records them and
    /// `--resume` refuses a change, naming the option (`RunRecord.mismatches`).
    /// `settings` are the image settings the run uses (the box `--extent auto` chose).
    func recordedOptions(raster settings: RasterSettings) throws -> [String: String] {
        var options: [String: String] = ["--init": initOptions.resolved(modelDefaults).rawValue]
        options.merge(try data.recorded()) { _, data in data }
        let model = runOptions.model
        for group in [sites.recorded, atomic.recorded, ryczko.recorded] where group.kind == model {
            options.merge(group.options) { _, given in given }
        }
        if model != .sites {
            // The box is chosen from the data only for whole images.
            let fromData = ModelOptions().imageUse(for: model) == .wholeImages && raster.extentFromData(byDefault: modelDefaults.extentFromData)
            options.merge(raster.recorded(settings, extentFromData: fromData)) { _, raster in raster }
        }
        return options
    }
}

extension RasterOptions {
    /// The image options as `run.json` records them, by command-line name: the values given or
    /// what stands in for them (the box `--extent auto` chose, "(default)", "(from --extent)").
    func recorded(_ settings: RasterSettings, extentFromData: Bool) -> [String: String] {
        let extentText = extentFromData ? DataBox.describe(settings) : extent?.length.map { "\($0)" } ?? "(default)"
        return ["--grid": "\(grid)", "--extent": extentText, "--spacing": spacing.map { "\($0)" } ?? "(from --extent)",
                "--sigma": "\(sigma)", "--centre": "\(centre)", "--depth": "\(depth)", "--channels": channels.rawValue,
                "--species": species ?? "(those in the data)", "--descriptor": descriptor, "--cutoff": "\(cutoff)"]
    }
}
