import ArgumentParser
import Foundation
import Images
import Networks
import Structures

/// Where the structures come from; shared by every command that reads data. The options a
/// run records (`recorded`) are optional here so that `decompose` and `predict` can tell an
/// option given from one left to the run's record (DataOptionsRecord.swift).
package struct DataOptions: ParsableArguments {
    @Argument(help: "Input file: extxyz (.xyz/.extxyz) or a site table (.csv).")
    var input: String?

    @Option(help: "Input format.")
    var format: StructureSource.Format = .auto

    @Option(help: "Keep only site-table rows with COLUMN=VALUE, e.g. Adsorbate=COOH.")
    var group: String?

    @Option(help: "Site-table column holding the target energy (default: \(Self.defaultTarget)).")
    var target: String?

    @Option(help: "Site-table site columns, comma-separated, in template order (default: all but target and group).")
    var sites: String?

    @Flag(help: "Skip invalid site-table rows and report them, instead of stopping at the first.")
    var skipInvalid = false

    @Option(help: "extxyz comment key holding the energy (default: \(Self.defaultEnergyKey)).")
    var energyKey: String?

    @Option(help: "Nearest-neighbour distance of the fcc(111) site template, Å (default: \(Self.defaultNNDistance)).")
    var nnDistance: Double?

    @Option(help: "Height of the adsorbate marker above the centre site, Å (default: \(Self.defaultAdsorbateHeight)).")
    var adsorbateHeight: Double?

    @Option(help: "extxyz site labels: column (the 'site' column), adsorbate-shells (binding, shell1, subsurface around the adsorbate), species (default: \(Self.defaultSiteRule.rawValue)).")
    var siteRule: SiteRule?

    package init() {}

    package func validate() throws {
        if let nnDistance { try Self.checkNNDistance(nnDistance) }
        if let adsorbateHeight { try Self.checkAdsorbateHeight(adsorbateHeight) }
    }

    static func checkNNDistance(_ value: Double) throws {
        guard value.isFinite, (0.5...10).contains(value) else { throw ValidationError("--nn-distance must be in 0.5...10 Å, got \(value)") }
    }

    static func checkAdsorbateHeight(_ value: Double) throws {
        guard value.isFinite, (0...10).contains(value) else { throw ValidationError("--adsorbate-height must be in 0...10 Å, got \(value)") }
    }

    /// How to read the input file; an error when none was given. Options not given take the
    /// run's `recorded` value (`decompose` and `predict`), else their default.
    package func source(requireEnergy: Bool = false, recorded: RecordedDataOptions? = nil) throws -> StructureSource {
        guard let input else { throw ValidationError("give the input file (extxyz or site table)") }
        let chosen = try resolved(recorded ?? RecordedDataOptions())
        var siteOptions = SiteTable.Options(targetColumn: chosen.target, skipInvalid: chosen.skipInvalid)
        if let sites = chosen.sites { siteOptions.siteColumns = sites.split(separator: ",").map(String.init) }
        if let group = chosen.group { try siteOptions.select(group: group) }
        return StructureSource(
            path: input, format: format, siteOptions: siteOptions,
            extxyzOptions: .init(energyKey: chosen.energyKey, requireEnergy: requireEnergy, siteRule: chosen.siteRule),
            template: .fcc111Top(nearestNeighbour: chosen.nnDistance, adsorbateHeight: chosen.adsorbateHeight))
    }
}

extension StructureSource.Format: ExpressibleByArgument {}
extension SiteRule: ExpressibleByArgument {}
extension WeightInitialisation: ExpressibleByArgument {}

extension RasterSettings.Centring: ExpressibleByArgument {}

/// How structures become images; shared by `rasterise` and the image models.
struct RasterOptions: ParsableArguments {
    enum ChannelChoice: String, ExpressibleByArgument, CaseIterable {
        case auto, single, species, descriptor
    }

    /// z-slices: a number, or chosen from the data (`ImageChoices`).
    enum DepthChoice: ExpressibleByArgument, Equatable {
        case auto
        case slices(Int)

        init?(argument: String) {
            if argument == "auto" { self = .auto } else if let value = Int(argument) { self = .slices(value) } else { return nil }
        }

        static var allValueStrings: [String] { ["auto", "1", "N"] }
        var defaultValueDescription: String { if case .slices(let n) = self { return "\(n)" } else { return "auto" } }
    }

    @Option(help: "Pixels per side.")
    var grid = RasterSettings.seedExample.gridSize

    /// A length in Å, or chosen from the data (`DataBox`).
    enum ExtentChoice: ExpressibleByArgument, Equatable {
        case auto
        case length(Double)

        init?(argument: String) {
            if argument == "auto" { self = .auto } else if let value = Double(argument) { self = .length(value) } else { return nil }
        }

        var length: Double? { if case .length(let value) = self { return value } else { return nil } }
    }

    @Option(help: "Å from the first to the last pixel centre, or auto: the box of every atom in the data with a margin of \(String(format: "%g", DataBox.marginSigmas)) σ (default: the seed's 5 Å; \(Self.autoExtentModels): auto).")
    var extent: ExtentChoice?

    @Option(help: "Å between pixel centres (instead of --extent).")
    var spacing: Double?

    @Option(help: "Gaussian width σ, Å.")
    var sigma = RasterSettings.seedExample.sigma

    @Option(help: "Grid placement: origin (first pixel at 0, as the seed) or structure (centred on it).")
    var centre = RasterSettings.seedExample.centring

    @Option(help: "z-slices: 1 projects along z (2D); more gives that many as channels (3D); auto: 1, or for atomic patches the fewest that part atoms stacked in z (slabs).")
    var depth: DepthChoice = .auto

    @Option(help: "Channels: single (every atom weight 1), species (one per species), descriptor (weighted by --descriptor); auto: single, or species where atoms stacked in z would merge in whole 2-D images.")
    var channels: ChannelChoice = .auto

    @Option(help: "Species for --channels species, comma-separated (default: those in the data).")
    var species: String?

    @Option(help: "Element descriptor weighting --channels descriptor: \(ElementDescriptors.available.joined(separator: ", ")).")
    var descriptor = "electronegativity"

    @Option(help: "Gaussian cutoff in σ (at least 4).")
    var cutoff = RasterSettings.seedExample.cutoffSigmas

    func validate() throws {
        if extent != nil && spacing != nil { throw ValidationError("give --extent or --spacing, not both") }
        if species != nil && channels != .species { throw ValidationError("--species needs --channels species (it would be ignored)") }
    }

    /// The settings for data holding `species` (in table order), with `auto` as today's seed
    /// images (one channel, 2-D); `ImageChoices` makes the data-dependent choices.
    func settings(species present: [String]) throws -> RasterSettings {
        let extentValue = extent?.length ?? spacing.map { $0 * Double(grid - 1) } ?? RasterSettings.seedExample.extent
        let channelSetting: RasterSettings.Channels
        switch channels {
        case .single, .auto: channelSetting = .single
        case .species: channelSetting = .species(species.map { $0.split(separator: ",").map(String.init) } ?? present)
        case .descriptor:
            let table = try ElementDescriptors.lookUp([descriptor], for: present.filter { !Structure.isDummy($0) })
            channelSetting = .descriptor(name: descriptor, weights: table.values.mapValues { $0[0] })
        }
        let settings = RasterSettings(gridSize: grid, extent: extentValue, sigma: sigma, centring: centre, depth: depthSlices,
                                      channels: channelSetting, cutoffSigmas: cutoff)
        try settings.validate()
        if species != nil { try settings.checkChannels(present: present) }
        return settings
    }

    var depthSlices: Int { if case .slices(let n) = depth { return n } else { return 1 } }

    /// The models whose box is chosen from the data by default, for the help.
    static var autoExtentModels: String {
        ModelKind.allDefaults.filter(\.defaults.extentFromData).map(\.name).joined(separator: ", ")
    }

    /// Whether the box is chosen from the data: --extent auto, or neither --extent nor --spacing
    /// given where the model's default is auto (`ModelDefaults.extentFromData`).
    func extentFromData(byDefault: Bool) -> Bool {
        extent == .auto || (extent == nil && spacing == nil && byDefault)
    }
}

/// An output file's folder must exist: SiteLens creates files, not paths (a typo would
/// otherwise make folders anywhere, up to the filesystem root).
func requireExistingFolder(for path: String, option: String) throws {
    let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
        throw ValidationError("\(option) \(path): the folder \(folder) does not exist (create it first)")
    }
}
