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
            for (name, value) in [("--grid", "\(raster.grid)"), ("--extent", recordedExtent(settings)),
                                  ("--spacing", raster.spacing.map { "\($0)" } ?? "(from --extent)"), ("--sigma", "\(raster.sigma)"),
                                  ("--centre", "\(raster.centre)"), ("--depth", "\(raster.depth)"), ("--channels", raster.channels.rawValue),
                                  ("--species", raster.species ?? "(those in the data)"), ("--descriptor", raster.descriptor),
                                  ("--cutoff", "\(raster.cutoff)")] {
                options[name] = value
            }
        }
        return options
    }

    /// --extent as recorded: the box chosen from the data only for whole images.
    private func recordedExtent(_ settings: RasterSettings) -> String {
        let fromData = ModelOptions().imageUse(for: runOptions.model) == .wholeImages && raster.extentFromData(byDefault: modelDefaults.extentFromData)
        return raster.recordedExtent(settings, fromData: fromData)
    }
}
