import Basics
import Foundation
import Testing
import TestSupport
@testable import Structures

/// Progress with an ETA for the phases after training (issue 20, item 2): evaluation, the swap
/// decomposition and `predict`, as the training bar draws it on a terminal, and no bar under
/// mpirun (which hands its ranks a pseudo-terminal even when its output goes to a log).
@Suite(.serialized)
struct PhaseProgressTests {
    /// A finished 2-member atomic run on labelled slabs (its decomposition swaps elements).
    func atomicRun() throws -> (folder: URL, data: URL, run: URL) {
        let folder = try temporaryFolder("sitelens-phase-progress")
        let data = try writeSlabs(12, metals: ["Cu", "Pt", "Au"], firstSeed: 1, in: folder) { symbols, _ in 0.05 * Double(count("Pt", in: symbols)) }
        let run = folder.appendingPathComponent("run")
        let train = try runProcess(sitelens, ["train", data.path, "--model", "atomic", "--patch-size", "9", "--patch-spacing", "0.6",
                                              "--filters", "4", "--epochs", "1", "--ensemble", "2", "--site-rule", "adsorbate-shells",
                                              "--run-dir", run.path], timeout: 600)
        #expect(train.status == 0, "\(train.stderr.suffix(2000))")
        return (folder, data, run)
    }

    /// The bar of `title`, full, with an ETA (the last redraw of a finished phase).
    func finishedBar(_ title: String, in output: String) -> Bool {
        output.contains("\(PseudoTerminal.redraw)\(String(repeating: "#", count: 20))] ETA 0s  \(title)")
    }

    @Test(.enabled(if: PseudoTerminal.available, "needs util-linux's script for a pseudo-terminal"))
    func decomposeAndPredictDrawABarWithAnETA() throws {
        let (folder, data, run) = try atomicRun()
        let decompose = try PseudoTerminal.run(PseudoTerminal.withoutLauncher + "\(sitelens) decompose --run \(run.path) --out \(folder.path)/again")
        #expect(decompose.status == 0, "\(decompose.stdout.suffix(2000))")
        #expect(finishedBar("evaluating 12/12 structures", in: decompose.stdout), "\(decompose.stdout.prefix(1500))")
        // 12 structures swapped by each member the run kept (a member that did not learn in its one epoch is left out).
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent(RunFolder.Output.record.rawValue))) as? [String: Any]
        let swaps = 12 * (2 - ((record?["excludedMembers"] as? [Any])?.count ?? 0))
        #expect(finishedBar("decomposing: swaps \(swaps)/\(swaps)", in: decompose.stdout), "\(decompose.stdout.prefix(1500))")
        // Each finished bar ends its line, so the summary that follows starts on a fresh one.
        #expect(decompose.stdout.contains("structures × members\r\n") || decompose.stdout.contains("structures × members\n"))

        let predict = try PseudoTerminal.run(PseudoTerminal.withoutLauncher + "\(sitelens) predict --run \(run.path) \(data.path) --out \(folder.path)/p.csv")
        #expect(predict.status == 0, "\(predict.stdout.suffix(2000))")
        #expect(finishedBar("evaluating 12/12 structures", in: predict.stdout), "\(predict.stdout.prefix(1500))")
    }

    @Test(.enabled(if: PseudoTerminal.available, "needs util-linux's script for a pseudo-terminal"))
    func underMpirunNoBarIsDrawn() throws {
        let (folder, data, run) = try atomicRun()
        let root = getuid() == 0 ? "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " : ""
        let predict = try PseudoTerminal.run(PseudoTerminal.withoutLauncher + root
                                        + "mpirun -np 2 \(sitelens) predict --run \(run.path) \(data.path) --out \(folder.path)/p.csv")
        #expect(predict.status == 0, "\(predict.stdout.suffix(2000))")
        #expect(!predict.stdout.contains("\u{1B}[K"), "a bar under mpirun: \(predict.stdout.prefix(600))")
        #expect(predict.stdout.contains("wrote \(folder.path)/p.csv"))
    }
}
