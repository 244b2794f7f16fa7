import ArgumentParser
import Basics
import Foundation
import Networks
import Screening
import Structures
import Training

/// `sitelens screen`: every site occupation of `sites` runs, scored by the ensemble and ranked
/// with its spread, sharded over the ranks (Screening does the work; this only parses).
struct Screen: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search every site occupation of trained runs for the best, with the ensemble spread.",
        discussion: """
        Each member of a sites run is an exact site × element table, so every occupation is scored by table look-ups. \
        Image and atomic runs trained on a site table build each occupation through the run's site template and evaluate it \
        by every member: every candidate up to \(CandidateSelection.exhaustiveLimit), or a seeded sample (--sample). \
        Ranks split the index space into contiguous blocks; the top K and the objective's histogram are gathered on rank 0, \
        the same for any rank count. Candidates use the sites of the runs' data and the elements every run saw. \
        Writes top.csv, top-contributions.csv, histogram.csv, screen.json and, with two runs, scaling.svg into --out.
        """)

    @Option(name: .customLong("run"), help: "Run folder of a finished `sitelens train` on a site table; repeat, one per adsorbate (scaling-departure: x first, y second).")
    var runs: [String] = []

    @Option(help: "min, max, target:EV (nearest EV), scaling-departure (largest |departure| from the scaling line of the first two runs) or weighted:W1,W2,... (smallest Σ W·energy, one weight per --run).")
    var objective: String

    @Option(help: "Rank by objective ∓ kappa·std (a confidence bound that counts the spread against a candidate), 0...10.")
    var kappa: Double = 0

    @Option(help: "How many of the best candidates to keep, 1...\(TopKeeper.limit).")
    var top: Int = 20

    @Option(help: "Bins of the objective's histogram, 1...\(ObjectiveHistogram.binLimit).")
    var bins: Int = 200

    @Option(name: .customLong("fix"), help: ArgumentHelp("Fix a site's element; repeatable.", valueName: "SITE=EL"))
    var fixed: [String] = []

    @Option(name: .customLong("allow"), help: ArgumentHelp("Allow only these elements at a site; repeatable.", valueName: "SITE=EL+EL"))
    var allowed: [String] = []

    @Option(name: .customLong("count"), help: ArgumentHelp("Keep occupations with LOW to HIGH sites of an element; up to 3.", valueName: "EL=LOW:HIGH"))
    var counts: [String] = []

    @Option(help: ArgumentHelp("Score a seeded uniform sample of N distinct candidates instead of every one, 1...\(CandidateSelection.sampleLimit) (the whole space when N ≥ its size).", valueName: "N"))
    var sample: Int?

    @Option(help: "Seed of --sample's draw (the same sample on any machine and rank count).")
    var seed: UInt64 = 1

    @Option(help: "Output folder (its parent must exist).")
    var out: String

    @Flag(help: "Replace an earlier screen in --out.")
    var overwrite = false

    func validate() throws {
        guard !runs.isEmpty else { throw ValidationError("give at least one --run") }
        guard runs.count <= 8 else { throw ValidationError("--run: at most 8 runs; \(runs.count) given") }
        do {
            _ = try Ranking(objective: Objective(parsing: objective), kappa: kappa)
            _ = try TopKeeper(capacity: top)
            _ = try ObjectiveHistogram(low: 0, high: 1, bins: bins)
            _ = try CandidateSpace.parseFixed(fixed)
            _ = try CandidateSpace.parseAllowed(allowed)
            _ = try CandidateSpace.parseWindows(counts)
            if let sample { try CandidateSelection.checkSample(sample) }
        } catch let error as ScreenError { throw ValidationError(error.description) }
    }

    func run() throws {
        try withMPI { mpi in
            var job = ScreenJob(runs: try runs.map(Self.load), ranking: try Ranking(objective: Objective(parsing: objective), kappa: kappa),
                                top: top, bins: bins, out: RunFolder(path: out), overwrite: overwrite)
            job.fixed = try CandidateSpace.parseFixed(fixed)
            job.allowed = try CandidateSpace.parseAllowed(allowed)
            job.windows = try CandidateSpace.parseWindows(counts)
            job.sample = sample
            job.seed = seed
            try job.run(world: mpi.world, progress: true)
        }
    }

    /// A run's kept members and its training rows, read with the data options it recorded (as
    /// `decompose` reads them; image and atomic runs also take its site template); named by its
    /// --group value (the adsorbate) or its folder.
    static func load(_ path: String) throws -> ScreenedRun {
        let folder = RunFolder(path: path)
        let members = try loadTrainedEnsemble(from: folder)
        let (options, recorded) = try DataOptions.parse([]).reusing(run: folder, needsInput: true)
        let source = try options.source(recorded: recorded)
        guard source.resolvedFormat == .sites else {
            throw ValidationError("--run \(path): screening reads a site-table run; this run trained on \(source.path)")
        }
        let table = try SiteTable.read(path: source.path, options: source.siteOptions)
        let name = source.siteOptions.groupValue ?? folder.url.lastPathComponent
        if case .sites = members.first?.modelDescription.encoding {
            return try ScreenedRun.load(name: name, members: members, table: table)
        }
        return try ScreenedRun.loadImages(name: name, members: members, table: table, template: source.template)
    }
}
