import Basics
import Foundation
import Testing
import TestSupport
@testable import Images
@testable import Structures

/// The seed's formula, pixel by pixel, in Double: Σ_atoms w·exp(−|r − r_atom|²/2σ²).
func directImage(_ positions: [SIMD3<Double>], weights: [Double]? = nil, grid: Int, extent: Double, sigma: Double,
                 origin: SIMD3<Double> = .zero) -> [Double] {
    let h = extent / Double(grid - 1)
    var image = [Double](repeating: 0, count: grid * grid)
    for y in 0..<grid {
        for x in 0..<grid {
            let rx = origin.x + Double(x) * h, ry = origin.y + Double(y) * h
            var sum = 0.0
            for (k, p) in positions.enumerated() {
                let d2 = (rx - p.x) * (rx - p.x) + (ry - p.y) * (ry - p.y)
                sum += (weights?[k] ?? 1) * exp(-d2 / (2 * sigma * sigma))
            }
            image[y * grid + x] = sum
        }
    }
    return image
}

func randomAtoms(_ count: Int, box: Double, seed: UInt64) -> Structure {
    var generator = SeededGenerator(seed: seed)
    let positions = (0..<count).map { _ in SIMD3(generator.uniform(0, box), generator.uniform(0, box), generator.uniform(0, box)) }
    return Structure(symbols: Array(repeating: "C", count: count), positions: positions)
}

func largestError(_ image: RasterImage, channel: Int = 0, _ reference: [Double]) -> Double {
    let n = image.width * image.height
    return (0..<n).map { abs(Double(image.pixels[channel * n + $0]) - reference[$0]) }.max()!
}

/// The explicit periodic copies p + i·a + j·b for |i|, |j| ≤ range.
func latticeCopies(of p: SIMD3<Double>, _ a: SIMD3<Double>, _ b: SIMD3<Double>, range: Int) -> [SIMD3<Double>] {
    var copies: [SIMD3<Double>] = []
    for i in -range...range {
        for j in -range...range {
            let shift: SIMD3<Double> = Double(i) * a + Double(j) * b
            copies.append(p + shift)
        }
    }
    return copies
}

struct RasteriserTests {
    @Test(arguments: [2, 20, 200])
    func theSeedConfigurationMatchesTheDirectFormula(atoms: Int) throws {
        let structure = randomAtoms(atoms, box: 5, seed: UInt64(atoms))
        let image = try Rasteriser(settings: .seedExample).image(of: structure)
        #expect(image.channels == 1 && image.height == 256 && image.width == 256)
        let reference = directImage(structure.positions, grid: 256, extent: 5, sigma: 0.2)
        let peak = reference.max()!
        #expect(largestError(image, reference) <= 1e-4 * peak, "largest error \(largestError(image, reference)) against peak \(peak)")
    }

    @Test func theSeedGridIsLinspaceFromZeroToTheExtent() throws {
        // One atom exactly on the last pixel centre (5, 5): that pixel holds the peak.
        let structure = Structure(symbols: ["H"], positions: [SIMD3(5, 5, 0)])
        let image = try Rasteriser(settings: .seedExample).image(of: structure)
        #expect(abs(image[0, 255, 255] - 1) < 1e-6)
        #expect(image[0, 0, 0] == 0)
        #expect(abs(RasterSettings.seedExample.spacing - 5.0 / 255) < 1e-15)
    }

    @Test func speciesGoToTheirOwnChannelsAndDescriptorsWeight() throws {
        let structure = Structure(symbols: ["Fe", "Cu", "Fe"], positions: [SIMD3(1, 1, 0), SIMD3(3, 3, 0), SIMD3(4, 1, 0)])
        var settings = RasterSettings(gridSize: 41, extent: 5, sigma: 0.3, channels: .species(["Fe", "Cu"]))
        let image = try Rasteriser(settings: settings).image(of: structure)
        let fe = directImage([SIMD3(1, 1, 0), SIMD3(4, 1, 0)], grid: 41, extent: 5, sigma: 0.3)
        let cu = directImage([SIMD3(3, 3, 0)], grid: 41, extent: 5, sigma: 0.3)
        #expect(image.channels == 2)
        #expect(largestError(image, channel: 0, fe) < 1e-5)
        #expect(largestError(image, channel: 1, cu) < 1e-5)

        settings.channels = .descriptor(name: "electronegativity", weights: ["Fe": 1.83, "Cu": 1.90])
        let weighted = try Rasteriser(settings: settings).image(of: structure)
        let reference = directImage(structure.positions, weights: [1.83, 1.90, 1.83], grid: 41, extent: 5, sigma: 0.3)
        #expect(largestError(weighted, reference) < 1e-5 * 1.9)
        settings.channels = .descriptor(name: "electronegativity", weights: ["Fe": 1.83])
        #expect(throws: RasterError.self) { try Rasteriser(settings: settings).image(of: structure) }
    }

    @Test func periodicCellsWrapAcrossTheBoundary() throws {
        // A 5 Å square cell sampled over one period; an atom near x = 0 leaks across to x = 5.
        let structure = Structure(symbols: ["H"], positions: [SIMD3(0.1, 2.5, 0)],
                                  cell: [SIMD3(5, 0, 0), SIMD3(0, 5, 0), SIMD3(0, 0, 10)], pbc: [true, true, false])
        let settings = RasterSettings(gridSize: 51, extent: 5, sigma: 0.3)
        let image = try Rasteriser(settings: settings).image(of: structure)
        let copies = latticeCopies(of: SIMD3(0.1, 2.5, 0), SIMD3(5, 0, 0), SIMD3(0, 5, 0), range: 2)
        let reference = directImage(copies, grid: 51, extent: 5, sigma: 0.3)
        #expect(largestError(image, reference) < 1e-5)
        #expect(image[0, 25, 50] > 0.5, "the Gaussian did not wrap to the far edge")
        // Not periodic: nothing at the far edge.
        var open = structure
        open.pbc = [false, false, false]
        #expect(try Rasteriser(settings: settings).image(of: open)[0, 25, 50] < 1e-6)
        // A skewed (hexagonal) cell wraps too.
        let hex = Structure(symbols: ["H"], positions: [SIMD3(0.2, 0.2, 0)],
                            cell: [SIMD3(4, 0, 0), SIMD3(2, 3.4641016151377544, 0), SIMD3(0, 0, 10)], pbc: [true, true, true])
        let hexImage = try Rasteriser(settings: settings).image(of: hex)
        let hexCopies = latticeCopies(of: SIMD3(0.2, 0.2, 0), SIMD3(4, 0, 0), SIMD3(2, 3.4641016151377544, 0), range: 3)
        #expect(largestError(hexImage, directImage(hexCopies, grid: 51, extent: 5, sigma: 0.3)) < 1e-5)
    }

    @Test func depthSlicesBecomeChannels() throws {
        let structure = Structure(symbols: ["H", "H"], positions: [SIMD3(1, 1, 0), SIMD3(2, 2, 2)])
        let settings = RasterSettings(gridSize: 21, extent: 4, sigma: 0.3, depth: 3, zExtent: 2)
        #expect(settings.channelCount == 3)
        let image = try Rasteriser(settings: settings).image(of: structure)
        #expect(image.channels == 3)
        // Slice 0 (z = 0) holds the first atom's peak; the second atom, 2 Å up, is past the cutoff there.
        #expect(abs(image[0, 5, 5] - 1) < 1e-5)
        #expect(image[2, 10, 10] > 0.99 && image[0, 10, 10] < 2e-5)
    }

    @Test func patchesAreCentredOnTheirAtoms() throws {
        let structure = try SiteTemplate.fcc111Top().structure(elements: Array(repeating: "Cu", count: 10), energy: nil, adsorbate: "CO")
        let settings = RasterSettings(sigma: 0.3, channels: .species(["Cu", "X"]))
        let (atoms, patches) = try Rasteriser(settings: settings).patches(of: structure, patchSize: 17, spacing: 0.4)
        #expect(atoms == Array(0..<10))  // the marker gets no patch of its own
        for (k, patch) in patches.enumerated() {
            #expect(patch.width == 17 && patch.channels == 2)
            #expect(patch[0, 8, 8] >= 1, "atom \(k)'s own peak is not at the patch centre")
        }
        // The centre atom's patch sees the marker right above it (2D projection); the others do not all.
        #expect(patches[0][1, 8, 8] > 0.99)
    }

    @Test func settingsAreChecked() {
        #expect(throws: RasterError.self) { try Rasteriser(settings: RasterSettings(sigma: 0)) }
        #expect(throws: RasterError.self) { try Rasteriser(settings: RasterSettings(cutoffSigmas: 3)) }
        #expect(throws: RasterError.self) { try Rasteriser(settings: RasterSettings(gridSize: 1)) }
    }
}

struct ImageFileTests {
    @Test func npyHeaderIsAligned() throws {
        let data = NPY.encode(shape: [2, 1, 2, 3], values: (0..<12).map(Float.init))
        #expect(Array(data.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(data.count == 10 + headerLength + 48)
    }

    @Test(.enabled(if: Available.numpy, "python3 cannot import numpy (Launch/test installs it with pip when it can)"))
    func numpyLoadsTheImages() throws {
        let folder = try temporaryFolder()
        let url = folder.appendingPathComponent("images.npy")
        let images = [RasterImage(channels: 2, height: 3, width: 4, pixels: (0..<24).map { Float($0) / 8 }),
                      RasterImage(channels: 2, height: 3, width: 4, pixels: (0..<24).map { -Float($0) })]
        try NPY.write(images, to: url)
        let run = try runProcess("python3", ["-c", "import numpy as np; a = np.load('\(url.path)'); print(a.shape, a.dtype, a[0, 1, 2, 3], a[1, 0, 0, 1])"])
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "(2, 2, 3, 4) float32 2.875 -1.0", "\(run.stderr)")
    }

    @Test func pngHasItsSignatureAndSize() throws {
        let png = try PNG.grayscale(width: 3, height: 2, pixels: [0, 128, 255, 10, 20, 30])
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(png[16..<24]) == [0, 0, 0, 3, 0, 0, 0, 2])
        // Decoded by Python's zlib (part of every python3).
        let folder = try temporaryFolder()
        let url = folder.appendingPathComponent("p.png")
        try png.write(to: url)
        // Decode IDAT with Python's zlib: the rows (filter byte + pixels) must come back.
        let script = "import zlib,struct; d=open('\(url.path)','rb').read(); i=d.index(b'IDAT'); n=struct.unpack('>I', d[i-4:i])[0]; print(list(zlib.decompress(d[i+4:i+4+n])))"
        let run = try runProcess("python3", ["-c", script])
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[0, 0, 128, 255, 0, 10, 20, 30]")
    }

    @Test func theCommandWritesAnArrayNumpyLoads() throws {
        let folder = try temporaryFolder()
        let input = folder.appendingPathComponent("in.xyz")
        try ExtXYZ.write([randomAtoms(5, box: 5, seed: 1), randomAtoms(7, box: 5, seed: 2)], to: input)
        let out = folder.appendingPathComponent("images.npy").path
        let run = try runProcess(sitelens, ["rasterise", input.path, "--out", out, "--grid", "32", "--channels", "species",
                                            "--preview", folder.appendingPathComponent("p.png").path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("p.png").path))
        #expect(try NPYHeader(of: URL(fileURLWithPath: out)).contains("'shape': (2, 1, 32, 32)"))
        // A bad input file fails with its name and line, and writes nothing.
        try "2\nenergy=1\nH 0 0 0\n".write(to: input, atomically: true, encoding: .utf8)
        let bad = try runProcess(sitelens, ["rasterise", input.path, "--out", folder.appendingPathComponent("none.npy").path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("in.xyz:1: field 'atom count'"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("none.npy").path))
    }
}

/// The text header of a .npy file (its dict with descr, fortran_order and shape).
func NPYHeader(of url: URL) throws -> String {
    let data = try Data(contentsOf: url)
    let length = Int(data[8]) | Int(data[9]) << 8
    return String(decoding: data[10..<(10 + length)], as: UTF8.self)
}
