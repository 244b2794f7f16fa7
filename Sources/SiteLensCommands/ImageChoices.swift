import Images
import Structures

/// The image settings with `--depth auto` and `--channels auto` decided from the data: where
/// 2-D images would merge atoms stacked in z (`ProjectionOverlap`, the leading structures),
/// atom-centred patches get z-slices and whole images species channels; elsewhere the seed's
/// 2-D single-channel images. Every rank decides alike (the same structures, no randomness).
struct ImageChoices {
    var settings: RasterSettings
    /// For the start of a run: what auto chose and why, and a warning for atoms still merged.
    var notes: [String] = []

    /// Patches: atom-centred, `extent` Å wide, Gaussians of width `sigma` (nil: whole images).
    init(_ options: RasterOptions, structures: StructureStore, leading: LeadingStructures, patches: (extent: Double, sigma: Double)?) throws {
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
    }
}
