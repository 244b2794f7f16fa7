import Foundation
import Testing
import TestSupport
@testable import Networks

/// The Python package (`python/`, importable as `sitelens`) installed with pip into a fresh
/// virtual environment, against real runs of the `sitelens` binary: its reader gives the
/// weights Swift saved, Docs/ModelFiles.md lists exactly the files' names and shapes, and its
/// ASE calculator gives the run's own predictions.
@Suite(.serialized)
struct PythonPackageTests {

    /// A new virtual environment with `python/` installed by pip (from a copy, so pip's build
    /// files stay out of the repository). `isolated`: without the system's packages, pip
    /// fetching numpy; when that fails (no package index) it falls back to
    /// `--system-site-packages` (pip building in isolation, else with the system's setuptools).
    /// Returns its python and which kind it is.
    func environment(isolated: Bool) throws -> (python: String, kind: String) {
        let folder = try temporaryFolder("sitelens-venv")
        let source = folder.appendingPathComponent("package")
        try FileManager.default.copyItem(at: repositoryRoot().appendingPathComponent("python"), to: source)
        let python = folder.appendingPathComponent("venv/bin/python").path
        func make(_ options: [String], install: [String]) throws -> ProcessOutcome {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("venv"))
            let venv = try runProcess("python3", ["-m", "venv"] + options + [folder.appendingPathComponent("venv").path], timeout: 120)
            guard venv.status == 0 else { return venv }
            return try runProcess(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + install + [source.path], timeout: 600)
        }
        // Without a package index pip cannot fetch setuptools to build in isolation either.
        let attempts = (isolated ? [([String](), [String]())] : [])
            + [(["--system-site-packages"], []), (["--system-site-packages"], ["--no-build-isolation"])]
        var failures: [String] = []
        for (options, install) in attempts {
            let outcome = try make(options, install: install)
            if outcome.status == 0 { return (python, options.isEmpty ? "isolated" : "--system-site-packages " + install.joined()) }
            failures.append("\(options + install): \(outcome.stderr.suffix(1000))")
        }
        Issue.record("pip install ./python failed in every virtual environment tried:\n\(failures.joined(separator: "\n"))")
        return (python, "none")
    }

    /// Trains a tiny run of `arguments` in `folder/name`.
    func trainedRun(_ folder: URL, _ name: String, _ arguments: [String]) throws -> URL {
        let run = folder.appendingPathComponent(name)
        let outcome = try runProcess(sitelens, ["train"] + arguments + ["--epochs", "2", "--run-dir", run.path], timeout: 300)
        #expect(outcome.status == 0, "train \(arguments) failed: \(outcome.stderr.suffix(2000))")
        return run
    }

    /// 30 Lennard-Jones clusters (extxyz) in `folder`.
    func clusters(_ folder: URL) throws -> String {
        let path = folder.appendingPathComponent("clusters.xyz").path
        let outcome = try runProcess(sitelens, ["generate", "--kind", "lennard-jones", "--structures", "30", "--seed", "4", "--out", path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        return path
    }

    /// 24 three-site structures (extxyz with a `site` column) whose energy adds one value per
    /// site and element.
    func siteStructures(_ folder: URL) throws -> String {
        let elements = ["Cu", "Ni", "Co"]
        var text = ""
        for k in 0..<24 {
            let chosen = [elements[k % 3], elements[(k / 3) % 3], elements[(k / 9) % 3]]
            let energy = chosen.enumerated().map { site, element in Double(site + 1) * 0.1 * Double(elements.firstIndex(of: element)! + 1) }.reduce(0, +)
            text += "3\nProperties=species:S:1:pos:R:3:site:S:1 energy=\(-1 - energy) pbc=\"F F F\"\n"
            for (site, element) in chosen.enumerated() { text += "\(element) \(Double(site) * 2.5) 0 0 s\(site)\n" }
        }
        let path = folder.appendingPathComponent("sites.xyz").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func python(_ python: String, _ arguments: [String]) throws -> ProcessOutcome {
        try runProcess(python, arguments, timeout: 300)
    }

    @Test(.enabled(if: Available.numpy, "python3 with numpy is needed (Launch/test installs it with pip when it can)"))
    func aFreshEnvironmentReadsTheWeightsSwiftSaved() throws {
        let (python, kind) = try environment(isolated: true)
        let folder = try temporaryFolder("sitelens-python")
        let run = try trainedRun(folder, "run", [try clusters(folder), "--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6",
                                                 "--filters", "4", "--ensemble", "2"])
        // Each member's tensors by name: shape, first value and float64 sum, from both readers.
        let script = """
        import sys, os, tempfile, numpy, sitelens
        run = sitelens.load_run(sys.argv[1])
        # One flipped bit of the weights: the recorded CRC-32 no longer matches, and the reader says so.
        damaged = bytearray(open(f"{sys.argv[1]}/model/member-0.safetensors", "rb").read())
        damaged[-1] ^= 1
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "damaged.safetensors")
            open(path, "wb").write(damaged)
            try:
                sitelens.read_safetensors(path, use_package=False)
                raise SystemExit("a damaged file was read")
            except sitelens.ModelFileError as error:
                assert "damaged" in str(error) and "CRC-32" in str(error), str(error)
        for m in run.members:
            own, _ = sitelens.read_safetensors(f"{sys.argv[1]}/model/member-{m.index}.safetensors", use_package=False)
            assert sorted(own) == sorted(m.weights) and all(numpy.array_equal(own[k], m.weights[k]) for k in own), "the readers disagree"
            for name in sorted(m.weights):
                t = m.weights[name]
                print(m.index, m.kind, name, list(t.shape), repr(float(t.ravel()[0])), repr(float(t.sum(dtype="float64"))))
        """
        let outcome = try self.python(python, ["-c", script, run.path])
        #expect(outcome.status == 0, "in a \(kind) environment: \(outcome.stderr)")
        var expected: [String] = []
        for member in 0..<2 {
            let model = try EnergyModel.load(from: run.appendingPathComponent("model"), name: "member-\(member)")
            for tensor in model.tensors().sorted(by: { $0.name < $1.name }) {
                expected.append("\(member) atomic \(tensor.name) \(tensor.shape) \(Double(tensor.values[0])) \(tensor.values.reduce(0.0) { $0 + Double($1) })")
            }
        }
        let lines = outcome.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == expected.count, "in a \(kind) environment:\n\(outcome.stdout)")
        for (line, want) in zip(lines, expected) {
            let (got, wanted) = (line.split(separator: " "), want.split(separator: " "))
            #expect(got.dropLast() == wanted.dropLast(), "\(line) vs \(want)")
            #expect(abs((Double(got.last ?? "") ?? .nan) - (Double(wanted.last ?? "") ?? 0)) < 1e-9, "\(line) vs \(want)")
        }
        // Without ASE the calculator says what it needs.
        if kind == "isolated", try self.python(python, ["-c", "import ase"]).status != 0 {
            let missing = try self.python(python, ["-c", "import sitelens; sitelens.SiteLensCalculator"])
            #expect(missing.status != 0 && missing.stderr.contains("needs ASE"), "\(missing.stderr)")
        }
    }

    @Test(.enabled(if: Available.safetensors, "python3 with numpy and safetensors is needed (Launch/test installs them with pip when it can)"))
    func theDocumentListsExactlyTheFilesNamesAndShapes() throws {
        let (python, kind) = try environment(isolated: false)
        let folder = try temporaryFolder("sitelens-model-files")
        let planted = folder.appendingPathComponent("planted.csv").path
        let generated = try runProcess(sitelens, ["generate", "--kind", "planted", "--structures", "30", "--out", planted])
        #expect(generated.status == 0, "\(generated.stderr)")
        let lj = try clusters(folder)
        // The runs Docs/ModelFiles.md names for its shape tables.
        let runs = [
            ("sites", try trainedRun(folder, "sites", [planted, "--model", "sites"])),
            ("atomic", try trainedRun(folder, "atomic", [lj, "--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6",
                                                         "--filters", "4", "--atomic-hidden", "4", "--ensemble", "2"])),
            ("-", try trainedRun(folder, "radial", [lj, "--model", "atomic", "--patch-shape", "radial", "--patch-size", "12"])),
            ("ryczko", try trainedRun(folder, "ryczko", [lj, "--model", "ryczko", "--blocks", "0", "--dense", "4", "--grid", "8"])),
        ]
        let checker = repositoryRoot().appendingPathComponent("python/tests/check_model_files.py").path
        let document = repositoryRoot().appendingPathComponent("Docs/ModelFiles.md").path
        let outcome = try self.python(python, [checker, document] + runs.map { "\($0.0)=\($0.1.path)" })
        #expect(outcome.status == 0, "Docs/ModelFiles.md and the files differ (\(kind) environment):\n\(outcome.stdout)\(outcome.stderr)")
        #expect(outcome.stdout.contains("checked") && outcome.stdout.contains("ryczko, 6 tensors"), "\(outcome.stdout)")
    }

    @Test(.enabled(if: Available.ase, "python3 with ASE is needed (Launch/test installs it with pip when it can)"))
    func theCalculatorGivesTheRunsPredictions() throws {
        let (python, kind) = try environment(isolated: false)
        let folder = try temporaryFolder("sitelens-calculator")
        let (lj, sites) = (try clusters(folder), try siteStructures(folder))
        let atomic = try trainedRun(folder, "atomic", [lj, "--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6",
                                                       "--filters", "4", "--ensemble", "2"])
        let sitesRun = try trainedRun(folder, "sites", [sites, "--model", "sites", "--ensemble", "2"])
        let checker = repositoryRoot().appendingPathComponent("python/tests/check_calculator.py").path
        for (run, data, model) in [(atomic, lj, "atomic"), (sitesRun, sites, "sites")] {
            let outcome = try self.python(python, [checker, sitelens, run.path, data])
            #expect(outcome.status == 0, "\(model) (\(kind) environment):\n\(outcome.stdout)\(outcome.stderr)")
            #expect(outcome.stdout.contains("\(model): structures"), "\(outcome.stdout)")
        }
        // Per-atom energies only where the model splits its energy over atoms.
        let refused = try runProcess(sitelens, ["predict", "--run", sitesRun.path, sites, "--out", folder.appendingPathComponent("p.csv").path,
                                                "--per-atom", folder.appendingPathComponent("p.xyz").path])
        #expect(refused.status != 0 && refused.stderr.contains("--per-atom") && refused.stderr.contains("sites"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("p.xyz").path))
    }
}
