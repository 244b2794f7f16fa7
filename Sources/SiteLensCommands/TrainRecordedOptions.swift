import Structures
import Training

extension Train {
    /// The options beyond `TrainingPlan`'s own fields that shape what this run trains on and
    /// what it trains: the data's target and selection, and the model's options for its kind,
    /// each as its command-line name and the value given. `run.json` records them and
    /// `--resume` refuses a change, naming the option (`RunRecord.mismatches`).
    func recordedOptions() -> [String: String] {
        var options: [String: String] = ["--init": initOptions.initialisation.rawValue]
        let format = StructureSource(path: data.input ?? "", format: data.format).resolvedFormat
        if format == .sites {
            options["--target"] = data.target
            options["--group"] = data.group ?? "(all rows)"
            options["--sites"] = data.sites ?? "(all but target and group)"
            options["--skip-invalid"] = data.skipInvalid ? "given" : "not given"
            options["--nn-distance"] = "\(data.nnDistance)"
            options["--adsorbate-height"] = "\(data.adsorbateHeight)"
        } else {
            options["--energy-key"] = data.energyKey
            options["--site-rule"] = data.siteRule.rawValue
        }
        let model = runOptions.model
        for group in [sites.recorded, atomic.recorded, ryczko.recorded] where group.kind == model {
            options.merge(group.options) { _, given in given }
        }
        if model != .sites {
            for (name, value) in [("--grid", "\(raster.grid)"), ("--extent", raster.extent.map { "\($0)" } ?? "(default)"),
                                  ("--spacing", raster.spacing.map { "\($0)" } ?? "(from --extent)"), ("--sigma", "\(raster.sigma)"),
                                  ("--centre", "\(raster.centre)"), ("--depth", "\(raster.depth)"), ("--channels", raster.channels.rawValue),
                                  ("--species", raster.species ?? "(those in the data)"), ("--descriptor", raster.descriptor),
                                  ("--cutoff", "\(raster.cutoff)")] {
                options[name] = value
            }
        }
        return options
    }
}
