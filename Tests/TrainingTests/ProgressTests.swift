import Foundation
import Testing
import TestSupport
@testable import Training

/// Progress a user can trust (issue 20, item 2): a bar with an ETA on a terminal, plain
/// labelled lines under mpirun (which hands its ranks a pseudo-terminal too), every member's
/// epochs printed, also those a group other than rank 0's trains.
@Suite(.serialized)
struct ProgressTests {
    @Test(.enabled(if: PseudoTerminal.available, "needs util-linux's script for a pseudo-terminal"))
    func aTerminalSeesABarWithAnETAForEveryMember() throws {
        let data = try plantedData(rows: 60)
        let run = data.folder.appendingPathComponent("run")
        let outcome = try PseudoTerminal.run(PseudoTerminal.withoutLauncher + "\(sitelens) train \(data.csv) --epochs 4 --ensemble 2 --run-dir \(run.path)")
        #expect(outcome.status == 0, "\(outcome.stdout.suffix(2000))")
        for member in 0..<2 {
            for epoch in 1...4 {
                #expect(outcome.stdout.contains(PseudoTerminal.redraw), "no bar redraw: \(outcome.stdout.prefix(600))")
                let bar = String(repeating: "#", count: 5 * epoch) + String(repeating: ".", count: 20 - 5 * epoch)
                #expect(outcome.stdout.contains("\(PseudoTerminal.redraw)\(bar)] ETA "), "member \(member) epoch \(epoch)")
                #expect(outcome.stdout.contains("member \(member) epoch \(epoch)/4"))
            }
        }
        // The last bar of each member ends its line, so what follows starts on a fresh one.
        let afterFirst = try #require(outcome.stdout.range(of: "member 0 epoch 4/4"))
        let nextBar = try #require(outcome.stdout.range(of: PseudoTerminal.redraw, range: afterFirst.upperBound..<outcome.stdout.endIndex))
        #expect(outcome.stdout[afterFirst.upperBound..<nextBar.lowerBound].contains("\n"))
    }

    @Test(.enabled(if: PseudoTerminal.available, "needs util-linux's script for a pseudo-terminal"))
    func mpirunUnderATerminalPrintsEveryGroupsMembersAsLines() throws {
        let data = try plantedData(rows: 60)
        let run = data.folder.appendingPathComponent("run")
        let root = getuid() == 0 ? "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " : ""
        let outcome = try PseudoTerminal.run(PseudoTerminal.withoutLauncher + root
                                        + "mpirun -np 2 \(sitelens) train \(data.csv) --epochs 3 --ensemble 2 --run-dir \(run.path)")
        #expect(outcome.status == 0, "\(outcome.stdout.suffix(2000))")
        #expect(!outcome.stdout.contains("\u{1B}[K"), "a bar under mpirun: \(outcome.stdout.prefix(600))")
        let lines = outcome.stdout.split(whereSeparator: \.isNewline)
        for member in 0..<2 {
            let epochs = lines.filter { $0.hasPrefix("member \(member) epoch ") && $0.contains("  ETA ") }
            #expect(epochs.count == 3, "member \(member): \(epochs)")
        }
    }

    @Test func theETACountsTheGroupsLaterMembers() {
        let progress = TrainingProgress(members: [1, 3, 5], epochs: 10, redraws: false)
        #expect(progress.epochsLeft(member: 1, epoch: 4) == 6 + 20)
        #expect(progress.epochsLeft(member: 5, epoch: 10) == 0)
        #expect([TrainingProgress.duration(42), TrainingProgress.duration(185), TrainingProgress.duration(7620), TrainingProgress.duration(.nan)]
                == ["42s", "3m05s", "2h07m", "?"])
    }
}
