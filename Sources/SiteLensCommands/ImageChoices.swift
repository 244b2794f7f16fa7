import Images
import Structures

/// The image settings with `--depth auto`, `--channels auto` and `--extent auto` decided from
/// the data: where 2-D images would merge atoms stacked in z (`ProjectionOverlap`, the leading
/// structures), atom-centred patches get z-slices and whole images species channels; elsewhere
/// the seed's 2-D single-channel images. Whole images get the box of every atom (`DataBox`)
/// when asked, and with a fixed box `train` refuses atoms off the grid (`GridCoverage`). Every
/// rank decides alike (the same structures, no randomness).
struct ImageChoices {
    var settings: RasterSettings
    /// For the start of a run: what auto chose and why, and a warning for atoms still merged.
    var notes: [String] = []

    /// What whole images do with the box: choose it from the data, and refuse atoms off a fixed one.
    struct WholeImages {
        var boxFromData: Bool
        var refuseCropping: Bool
    }

    /// Patches: atom-centred, `extent` Å wide, Gaussians of width `sigma` (nil: whole images,
    /// whose box `whole` decides).
    init(_ options: RasterOptions, structures: StructureStore, leading: LeadingStructures, patches: (extent: Double, sigma: Double)?,
         whole: WholeImages = WholeImages(boxFromData: false, refuseCropping: false)) throws {
        settings = try options.settings(species: structures.species)
        let survey = try ProjectionOverlap.survey(leading, sigma: patches?.sigma ?? settings.sigma)
        if let patches, options.depth == .auto, let finding = ProjectionOverlap.merged(survey, settings: settings, patches: true) {
            settings.depth = ProjectionOverlap.separatingDepth(zExtent: patches.extent, sigma: patches.sigma)
            notes.append("images: --depth auto chose \(settings.depth) z-slices for the atomic patches, \(survey.describe(finding)); --depth 1 keeps them 2-D")
        }
        // Species channels part only stacks of different species: chosen where they part some.
        if patches == nil, options.channels == .auto, let finding = ProjectionOverlap.merged(survey, settings: settings, patches: false),
           survey.sameSpecies.structures < finding.structures {
            settings.channels = .species(structures.species)
            try settings.validate()
            notes.append("images: --channels auto chose one channel per species (\(structures.species.joined(separator: ", "))), "
                         + "\(survey.describe(finding)); --channels single keeps one")
        }
        if let warning = ProjectionOverlap.warning(survey, settings: settings, patches: patches != nil) { notes.append(warning) }
        if patches == nil { try placeBox(options, structures: structures, whole: whole) }
    }

    /// The whole images' box: chosen from the data, or a fixed one that must hold every atom
    /// when `whole.refuseCropping`.
    private mutating func placeBox(_ options: RasterOptions, structures: StructureStore, whole: WholeImages) throws {
        let source = structures.file.map { " of \($0)" } ?? ""
        if whole.boxFromData {
            do {
                settings = try DataBox.fitting(settings, to: structures)
                try settings.validate()
            } catch let error as RasterError {
                throw RasterError(field: "extent", message: "--extent auto chose \(DataBox.describe(settings)) for the atoms\(source), which the image cannot hold: "
                                      + "\(error.message) (raise --grid or --sigma, or give --extent)")
            }
            notes.append("images: --extent \(DataBox.describe(settings)), every atom\(source) with a margin of "
                         + String(format: "%g σ; --extent sets a fixed box", DataBox.marginSigmas))
        } else if whole.refuseCropping {
            let coverage = try GridCoverage.survey(structures, rasteriser: Rasteriser(settings: settings))
            guard coverage.atomsOutside == 0 else {
                let box = settings.centring == .origin ? "the grid from (0, 0, 0)" : "the grid centred on each structure"
                throw RasterError(field: "extent", message: "--extent \(String(format: "%g", settings.extent)) Å (\(box)) leaves \(coverage.describe(of: structures.count))\(source) "
                                      + "off the grid: they would be missing from the images. Pass --extent auto (the box of the data's atoms), "
                                      + "a larger --extent, or --centre structure")
            }
        }
    }
}
