import Foundation
import Testing
import TestSupport
@testable import Images
@testable import Structures

/// SiteLens's radial patches against a NumPy reference written from their definition
/// (Launch/reference/radial_patches_numpy.py): every value of every patch, for structures with
/// and without periodic cells, two species and a dummy marker, under four channel settings.
struct RadialPatchNumPyTests {
    /// A cluster with a dummy marker; a triclinic cell periodic in 3-D with an atom written outside
    /// it; a hexagonal slab periodic in x and y only; a small cubic cell whose atom sees its own copies.
    static let frames = """
    6
    Properties=species:S:1:pos:R:3
    Cu 0.0 0.0 0.0
    Pt 1.9 0.3 0.1
    Cu 0.2 2.1 -0.4
    X 0.5 0.6 1.8
    Pt -1.7 -0.9 0.6
    Cu 2.6 2.4 1.1
    3
    Lattice="3.1 0 0 0.9 2.8 0 0.4 0.5 3.3" Properties=species:S:1:pos:R:3 pbc="T T T"
    Cu 0.1 0.2 0.3
    Pt 1.6 1.5 1.7
    Cu 4.0 -0.5 2.9
    4
    Lattice="2.6 0 0 1.3 2.2516660 0 0 0 20" Properties=species:S:1:pos:R:3 pbc="T T F"
    Cu 0.0 0.0 0.0
    Pt 1.3 0.75 -2.1
    X 0.0 0.0 1.8
    Cu 2.6 1.5 -4.2
    2
    Lattice="2.5 0 0 0 2.5 0 0 0 2.5" Properties=species:S:1:pos:R:3 pbc="T T T"
    Pt 0.3 0.3 0.3
    Cu 1.4 1.2 1.5

    """

    /// One rasteriser setting and the same setting as the script's options.
    struct Case: CustomStringConvertible {
        let name: String
        let channels: RasterSettings.Channels
        let scriptChannels: String
        let bins: Int, spacing: Double, sigma: Double, cutoff: Double
        var wrap = true
        var description: String { name }

        func rasteriser() throws -> RadialRasteriser {
            var settings = RasterSettings()
            settings.sigma = sigma
            settings.channels = channels
            settings.cutoffSigmas = cutoff
            settings.wrapPeriodic = wrap
            return try RadialRasteriser(settings: settings, bins: bins, spacing: spacing)
        }

        func arguments(file: String, reader: String) -> [String] {
            [file, "--bins", "\(bins)", "--spacing", "\(spacing)", "--sigma", "\(sigma)", "--cutoff", "\(cutoff)",
             "--channels", scriptChannels, "--reader", reader] + (wrap ? [] : ["--no-wrap"])
        }
    }

    static let cases = [
        Case(name: "species with the marker's channel", channels: .species(["Cu", "Pt", "X"]), scriptChannels: "species:Cu,Pt,X",
             bins: 61, spacing: 0.08, sigma: 0.15, cutoff: 5),
        Case(name: "one density channel", channels: .single, scriptChannels: "single", bins: 40, spacing: 0.12, sigma: 0.25, cutoff: 4.5),
        Case(name: "species without the marker, no periodic copies", channels: .species(["Pt", "Cu"]), scriptChannels: "species:Pt,Cu",
             bins: 50, spacing: 0.1, sigma: 0.2, cutoff: 6, wrap: false),
        Case(name: "electronegativity weights", channels: .descriptor(name: "chi", weights: ["Cu": 1.9, "Pt": 2.28]),
             scriptChannels: #"descriptor:chi:{"Cu": 1.9, "Pt": 2.28}"#, bins: 45, spacing: 0.1, sigma: 0.18, cutoff: 5),
    ]

    /// The script's output: per frame, the atoms given patches and their values.
    struct Reference: Decodable {
        struct Frame: Decodable { let atoms: [Int]; let patches: [[Double]] }
        let reader: String
        let frames: [Frame]
    }

    /// Tolerances: SiteLens keeps patches in Float (about 6·10⁻⁸ relative per value, summed over
    /// a few dozen Gaussians), and a Gaussian exactly at the cutoff may fall either side of it
    /// (exp(−cutoff²/2) ≤ 1.3·10⁻⁴ at 4.5 σ, 3.7·10⁻⁶ at 5 σ).
    static func tolerance(_ cutoff: Double) -> (relative: Double, absolute: Double) { (1e-5, max(1e-5, 1.01 * exp(-cutoff * cutoff / 2))) }

    /// The largest difference, the largest share of its tolerance a difference uses, and every
    /// value beyond `absolute + relative·|reference|`.
    static func compare(_ sitelens: [[Float]], _ reference: [[Double]], relative: Double,
                        absolute: Double) -> (largest: Double, share: Double, failures: [String]) {
        var largest = 0.0, share = 0.0, failures: [String] = []
        guard sitelens.count == reference.count else { return (.infinity, .infinity, ["\(sitelens.count) patches against \(reference.count)"]) }
        for (atom, (ours, theirs)) in zip(sitelens, reference).enumerated() {
            guard ours.count == theirs.count else { failures.append("patch \(atom): \(ours.count) values against \(theirs.count)"); continue }
            for (k, (a, b)) in zip(ours, theirs).enumerated() {
                let difference = abs(Double(a) - b)
                largest = max(largest, difference)
                share = max(share, difference / (absolute + relative * abs(b)))
                if !(difference <= absolute + relative * abs(b)) { failures.append("patch \(atom) value \(k): SiteLens \(a), NumPy \(b)") }
            }
        }
        return (largest, share, failures)
    }

    func reference(_ arguments: [String]) throws -> Reference {
        let script = repositoryRoot().appendingPathComponent("Launch/reference/radial_patches_numpy.py").path
        let run = try runProcess("python3", [script] + arguments, timeout: 120)
        try #require(run.status == 0, "radial_patches_numpy.py failed: \(run.stderr.suffix(1500))")
        return try JSONDecoder().decode(Reference.self, from: Data(run.stdout.utf8))
    }

    @Test(.enabled(if: Available.numpy, "python3 cannot import numpy (Launch/test installs it with pip when it can)"), arguments: cases)
    func everyPatchValueMatchesNumPy(_ setting: Case) throws {
        let folder = try temporaryFolder("sitelens-radial-numpy")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("frames.xyz")
        try Self.frames.write(to: file, atomically: true, encoding: .utf8)
        let structures = try ExtXYZ.parse(Self.frames, file: file.path)
        #expect(structures.count == 4)
        let rasteriser = try setting.rasteriser()
        // The plain-Python reader always; ASE's as well where it is installed.
        let readers = Available.ase ? ["plain", "ase"] : ["plain"]
        let (relative, absolute) = Self.tolerance(setting.cutoff)
        for reader in readers {
            let reference = try reference(setting.arguments(file: file.path, reader: reader))
            try #require(reference.reader == reader && reference.frames.count == structures.count)
            var largest = 0.0, share = 0.0
            for (index, (structure, expected)) in zip(structures, reference.frames).enumerated() {
                let (atoms, images) = try rasteriser.patches(of: structure)
                #expect(atoms == expected.atoms, "frame \(index + 1): atoms given patches")
                let (difference, used, failures) = Self.compare(images.map(\.pixels), expected.patches, relative: relative, absolute: absolute)
                largest = max(largest, difference)
                share = max(share, used)
                #expect(failures.isEmpty, "\(setting), frame \(index + 1), \(reader) reader: \(failures.prefix(5).joined(separator: "; "))")
                // Something to compare: every frame's first patch holds a neighbour's Gaussian.
                #expect(expected.patches.first?.contains { $0 > 0.5 } == true, "frame \(index + 1): an empty reference patch")
            }
            print("radial patches, \(setting), \(reader) reader: largest |SiteLens − NumPy| = \(largest) (tolerance \(absolute) + \(relative)·|value|, at most "
                  + "\(String(format: "%.0f", 100 * share)) % of it used)")
        }
    }

    /// The comparison can fail: one value moved by 10⁻³ (a tenth of a percent of a peak) is caught.
    @Test(.enabled(if: Available.numpy, "python3 cannot import numpy (Launch/test installs it with pip when it can)"))
    func oneMovedValueIsCaught() throws {
        let folder = try temporaryFolder("sitelens-radial-numpy")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("frames.xyz")
        try Self.frames.write(to: file, atomically: true, encoding: .utf8)
        let setting = Self.cases[0]
        let structure = try ExtXYZ.parse(Self.frames, file: file.path)[1]
        var pixels = try setting.rasteriser().patches(of: structure).images.map(\.pixels)
        let expected = try reference(setting.arguments(file: file.path, reader: "plain")).frames[1].patches
        let (relative, absolute) = Self.tolerance(setting.cutoff)
        #expect(Self.compare(pixels, expected, relative: relative, absolute: absolute).failures.isEmpty)
        let peak = pixels[1].indices.max { pixels[1][$0] < pixels[1][$1] } ?? 0
        pixels[1][peak] += 1e-3
        let (_, _, failures) = Self.compare(pixels, expected, relative: relative, absolute: absolute)
        #expect(failures == ["patch 1 value \(peak): SiteLens \(pixels[1][peak]), NumPy \(expected[1][peak])"])
    }
}
