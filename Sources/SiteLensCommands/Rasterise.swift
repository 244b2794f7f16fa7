import ArgumentParser
import Basics
import Foundation
import Images
import Structures

/// `sitelens rasterise`: structures to Gaussian images in a NumPy file.
package struct Rasterise: ParsableCommand {
    package static let configuration = CommandConfiguration(
        abstract: "Rasterise structures into Gaussian images (float32 .npy, shape [N, C, H, W]).")

    @OptionGroup var data: DataOptions
    @OptionGroup var raster: RasterOptions

    @Option(help: "Output .npy file.")
    var out: String

    @Option(help: "Also write a PNG preview of the first images.")
    var preview: String?

    package init() {}

    package func validate() throws {
        try requireExistingFolder(for: out, option: "--out")
        if let preview { try requireExistingFolder(for: preview, option: "--preview") }
    }

    package func run() throws {
        let loaded = try data.source().load()
        if let note = loaded.table?.skippedSummary { print(note) }
        let structures = LoadedStructures(loaded.structures)
        let choices = try ImageChoices(raster, structures: structures, leading: LeadingStructures(structures), patches: nil,
                                       whole: .init(boxFromData: raster.extent == .auto, refuseCropping: false))
        choices.notes.forEach { print($0) }
        let settings = choices.settings
        let rasteriser = try Rasteriser(settings: settings)
        let images = try loaded.structures.map { try rasteriser.image(of: $0) }
        var coverage = GridCoverage()
        for (index, image) in images.enumerated() { coverage.add(image.atomsOutside, structure: index) }
        if coverage.atomsOutside > 0 {
            print("note: \(coverage.describe(of: images.count)) lie outside the grid and are not in the images (--extent auto, --centre structure or a larger --extent takes them in)")
        }
        try NPY.write(images, to: URL(fileURLWithPath: out))
        print("wrote \(out): \(images.count) images, \(settings.channelCount) channel\(settings.channelCount == 1 ? "" : "s") (\(settings.channelNames.joined(separator: ", "))), \(settings.gridSize)×\(settings.gridSize), spacing \(settings.spacing) Å, σ \(settings.sigma) Å")
        if let preview {
            try writeAtomically(PNG.preview(images), to: URL(fileURLWithPath: preview))
            print("wrote \(preview)")
        }
    }
}
