import ArgumentParser
import Basics
import Foundation
import Structures

/// `sitelens generate`: built-in data sets, so a demonstration needs no downloads.
struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a built-in data set: a site table with a planted additive truth.",
        discussion: "Writes OUT (the site table, fcc(111) top-site columns) and OUT's folder/truth.csv with the planted contributions.")

    @Option(help: "Output site-table CSV.")
    var out: String

    @Option(help: "Rows to generate.")
    var structures = 400

    @Option(help: "Gaussian noise added to each energy, eV.")
    var noise = 0.01

    @Option(help: "Seed.")
    var seed: UInt64 = 1

    func run() throws {
        let truth = try PlantedTruth(noise: noise)
        let url = URL(fileURLWithPath: out)
        try writeAtomically(truth.siteTable(count: structures, seed: seed), to: url)
        let truthURL = url.deletingLastPathComponent().appendingPathComponent("truth.csv")
        try writeAtomically(truth.truthTable, to: truthURL)
        print("wrote \(out) (\(structures) rows) and \(truthURL.path)")
    }
}
