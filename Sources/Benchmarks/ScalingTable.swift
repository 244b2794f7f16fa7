import Basics
import Foundation

extension ScalingBenchmark {
    /// The table of medians over rounds. A run's speed-up is the median of each round's ratio to
    /// that round's first run of its model; "÷ independent" its share of the independent ranks'
    /// samples/s on the same rank count, same round.
    func tabulate(_ runs: [Run], _ figures: [[Figures?]]) -> BenchmarkTable {
        var table = BenchmarkTable(columns: ["model", "ranks", "all-reduce", "samples/s", "speed-up", "efficiency", "÷ independent", "all-reduce share"],
                                   widths: [14, 20, 18, 11, 10, 12, 15, 18])
        log(table.header)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        for (index, run) in runs.enumerated() {
            let measured = figures[index].compactMap { $0 }
            guard !measured.isEmpty else {
                log("\(run.model): the \(run.ranks)-rank run (\(run.mode)) failed")
                continue
            }
            let reference = runs.firstIndex { $0.model == run.model } ?? index
            let ratios = Self.ratios(figures[index], figures[reference])
            let speedUp = median(ratios)
            let ceiling = runs.firstIndex { $0.model == run.model && $0.ranks == run.ranks && $0.mode == Self.independent }
            let ofCeiling = ceiling.flatMap { $0 == index ? nil : median(Self.ratios(figures[index], figures[$0])) }
            log(table.append([run.model, "\(run.ranks)\(run.ranks > cores ? " (oversubscribed)" : "")", run.mode == "-" ? "none" : run.mode,
                              String(format: "%.1f", median(measured.map(\.rate)) ?? .nan), speedUp.map { String(format: "%.2f×", $0) } ?? "-",
                              speedUp.map { String(format: "%.0f%%", 100 * $0 / Double(run.ranks)) } ?? "-",
                              ofCeiling.map { String(format: "%.0f%%", 100 * $0) } ?? "-",
                              String(format: "%.1f%%", 100 * (median(measured.map(\.share)) ?? .nan))]))
            if configuration.repeats > 1, ratios.count > 1, index != reference {
                log("    each round: " + ratios.map { String(format: "%.2f×", $0) }.joined(separator: " "))
            }
        }
        return table
    }

    /// Round by round, `runs`' samples/s over `bases`', where both ran.
    static func ratios(_ runs: [Figures?], _ bases: [Figures?]) -> [Double] {
        zip(runs, bases).compactMap { run, base in run.flatMap { r in base.map { r.rate / $0.rate } } }
    }
}
