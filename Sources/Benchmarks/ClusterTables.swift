import Foundation
import Training

/// `bench cluster`'s tables, printed from its results: the links' α–β, training on 2 nodes per
/// mode and precision, the projection to many ranks, and the projection against measured runs.
struct ClusterTables {
    let configuration: ClusterBenchmark.Configuration
    let results: ClusterResults
    /// The rate whose 2-, 3-, 4-node runs check the projection.
    let checkRate: String
    let log: BenchmarkLog

    func print() {
        links()
        trainings()
        projection()
        check()
    }

    private func ms(_ seconds: Double) -> String { String(format: "%.2f", 1000 * seconds) }
    private func percent(_ share: Double) -> String { String(format: "%.0f%%", 100 * share) }

    private func links() {
        let bytes = results.gradientBytes
        let cpu = results.unlimited.ring(bytes: bytes, ranks: 2)
        log("")
        log("All-reduce of 2 ranks, α and β fitted (T = 2(p−1)α + 2(p−1)/p·n·β) to sizes \(configuration.fitBytes.map(String.init).joined(separator: ", ")) B "
            + "and the gradient's \(Int(bytes)) B (shaped links: α from sizes below tc's \(ClusterBenchmark.linkBurstBytes >> 10) KiB burst, β from those of 4 bursts and more); \"CPU part\": the unlimited-rate time between namespaces, CPU work on this machine's shared cores "
            + "(kernel TCP copies) that a real network card would not cost:")
        var table = BenchmarkTable(columns: ["link", "alpha us", "beta ns/B", "GB/s", "gradient ms", "CPU part"], widths: [16, 10, 11, 8, 13, 10])
        log(table.header)
        let rows: [(String, LinkCost)] = [("shared memory", results.sharedMemory), ("unlimited", results.unlimited)] + results.links.map { ($0.rate, $0.cost) }
        for (name, cost) in rows {
            let time = cost.ring(bytes: bytes, ranks: 2)
            let part = name == "shared memory" ? "-" : percent(min(cpu / max(time, 1e-12), 1))
            log(table.append([name, String(format: "%.1f", cost.alpha * 1e6), String(format: "%.3f", cost.beta * 1e9),
                              String(format: "%.2f", cost.beta > 0 ? 1e-9 / cost.beta : .infinity), ms(time), part]))
        }
    }

    private func trainings() {
        log("")
        log("Training on 2 nodes × 1 rank: samples/s, step, the all-reduce of the gradient alone (fitted), the share of the step spent waiting "
            + "for it after backward, and the part of the all-reduce hidden behind backward (1 − wait / the wait of single in the same precision):")
        var table = BenchmarkTable(columns: ["link", "all-reduce", "precision", "samples/s", "step ms", "all-reduce ms", "share", "hidden"],
                                   widths: [9, 12, 11, 11, 10, 15, 8, 8])
        log(table.header)
        for training in results.trainings where training.nodes == 2 {
            guard let link = results.links.first(where: { $0.rate == training.rate })?.cost else { continue }
            let bytesPerValue = Double(GradientPrecision(training.precision)?.bytesPerValue ?? 8)
            let alone = link.ring(bytes: results.gradientBytes * bytesPerValue / 8, ranks: 2)
            let figures = training.figures
            let wait = figures.allReduceShare * figures.stepSeconds
            // What there is to hide: the wait of one blocking all-reduce in the same run (it
            // hides nothing), else the fitted time of the all-reduce alone.
            let blocking = results.trainings.first { $0.rate == training.rate && $0.nodes == 2 && $0.mode == "single" && $0.precision == training.precision }
                .map { $0.figures.allReduceShare * $0.figures.stepSeconds } ?? alone
            log(table.append([training.rate, training.mode, training.precision, String(format: "%.1f", figures.samplesPerSecond), ms(figures.stepSeconds),
                              ms(alone), percent(figures.allReduceShare), percent(min(max(1 - wait / max(blocking, 1e-12), 0), 1))]))
        }
        log("")
        for rate in configuration.rates {
            let runs = results.trainings.filter { $0.rate == rate && $0.nodes == 2 }
            guard let single = runs.first(where: { $0.mode == "single" && $0.precision == "double" }),
                  let best = runs.min(by: { $0.figures.allReduceShare < $1.figures.allReduceShare }) else { continue }
            log("\(rate): lowest all-reduce share \(percent(best.figures.allReduceShare)) (\(best.mode), \(best.precision)) against single's "
                + "\(percent(single.figures.allReduceShare))" + (best.figures.allReduceShare <= single.figures.allReduceShare / 2 ? "." :
                "; not half: both nodes' backward and TCP work share this machine's cores, so overlap only moves CPU work "
                + "(on real nodes a network card moves the bytes while the cores compute, and a smaller precision sends fewer)."))
        }
    }

    private func projection() {
        log("")
        log("Projection (weak scaling: \(configuration.batchPerRank) structures per rank and step; compute \(ms(results.computeSeconds)) ms per step "
            + "measured on one rank; ring over all ranks, hierarchical with \(configuration.ranksPerNode) ranks a node; α and β corrected: "
            + "the unlimited-rate CPU part taken out, shared memory's put back):")
        var table = BenchmarkTable(columns: ["link", "ranks", "ring step ms", "ring eff", "hier step ms", "hier eff"], widths: [9, 7, 14, 10, 14, 10])
        log(table.header)
        for (rate, link) in results.links {
            let model = ScalingProjection(computeSeconds: results.computeSeconds, gradientBytes: results.gradientBytes, network: results.corrected(link),
                                          node: results.sharedMemory, ranksPerNode: configuration.ranksPerNode)
            for ranks in configuration.projectedRanks {
                let ring = model.step(allReduceSeconds: model.ringSeconds(ranks: ranks))
                let hierarchical = model.step(allReduceSeconds: model.hierarchicalSeconds(ranks: ranks))
                log(table.append([rate, "\(ranks)", ms(ring.seconds), percent(ring.efficiency), ms(hierarchical.seconds), percent(hierarchical.efficiency)]))
            }
        }
    }

    private func check() {
        guard let link = results.links.first(where: { $0.rate == checkRate })?.cost else { return }
        log("")
        log("Check at \(checkRate): the ring model with the measured (uncorrected) α and β against measured steps (single, double), N nodes × 1 rank:")
        var table = BenchmarkTable(columns: ["nodes", "projected ms", "measured ms", "difference"], widths: [7, 14, 13, 12])
        log(table.header)
        let model = ScalingProjection(computeSeconds: results.computeSeconds, gradientBytes: results.gradientBytes, network: link,
                                      node: results.sharedMemory, ranksPerNode: 1)
        for training in results.trainings.filter({ $0.matches(rate: checkRate, nodes: $0.nodes) }).sorted(by: { $0.nodes < $1.nodes }) {
            let projected = model.step(allReduceSeconds: model.ringSeconds(ranks: training.nodes)).seconds
            let measured = training.figures.stepSeconds
            log(table.append(["\(training.nodes)", ms(projected), ms(measured), String(format: "%+.0f%%", 100 * (projected - measured) / measured)]))
        }
        log("")
    }
}
