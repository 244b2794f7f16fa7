import ArgumentParser
import Basics
import Foundation
import Structures

/// `sitelens generate`: built-in data sets, so a demonstration needs no downloads.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a built-in data set: a planted-truth site table, or 2-D Lennard-Jones clusters.",
        discussion: """
        planted: OUT is a site table (fcc(111) top-site columns) and truth.csv beside it holds the planted \
        contributions. lennard-jones: OUT is an extxyz file of random 2-D clusters in a 5 Å box with their \
        Lennard-Jones energies (ε = 1 eV, σ = 1 Å), for the image models.
        """)

    enum Kind: String, ExpressibleByArgument, CaseIterable { case planted, lennardJones = "lennard-jones" }

    @Option(help: "Which data set.")
    var kind: Kind = .planted

    @Option(help: "Output file: a site-table CSV (planted) or an extxyz file (lennard-jones).")
    var out: String

    @Option(help: "Rows (planted) or clusters (lennard-jones) to generate.")
    var structures = 400

    @Option(help: "Gaussian noise added to each energy, eV.")
    var noise = 0.01

    @Option(help: "Seed.")
    var seed: UInt64 = 1

    /// The most structures one call writes: a million rows or clusters is already ~100 MB.
    static let structureLimit = 1_000_000

    func validate() throws {
        guard (1...Self.structureLimit).contains(structures) else {
            throw ValidationError("--structures must be in 1...\(Self.structureLimit), got \(structures)")
        }
        guard noise.isFinite, noise >= 0, noise <= 100 else { throw ValidationError("--noise must be in [0, 100] eV, got \(noise)") }
        let parent = URL(fileURLWithPath: out).deletingLastPathComponent()
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError("--out \(out): the folder \(parent.path) does not exist; create it first")
        }
    }

    func run() throws {
        if kind == .lennardJones {
            try ExtXYZ.write(LennardJonesClusters.generate(count: structures, seed: seed), to: URL(fileURLWithPath: out))
            print("wrote \(out) (\(structures) Lennard-Jones clusters)")
            return
        }
        let truth = try PlantedTruth(noise: noise)
        let url = URL(fileURLWithPath: out)
        try writeAtomically(truth.siteTable(count: structures, seed: seed), to: url)
        let truthURL = url.deletingLastPathComponent().appendingPathComponent("truth.csv")
        try writeAtomically(truth.truthTable, to: truthURL)
        print("wrote \(out) (\(structures) rows) and \(truthURL.path)")
    }
}
