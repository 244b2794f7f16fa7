import Basics
import Foundation
import MPI
#if canImport(Glibc)
import Glibc
#endif

/// One group's training progress as its root prints it: each epoch's line, labelled with its
/// member, and the time left for the group's members (the mean epoch time so far times the
/// epochs left). On a terminal outside any launcher the line is a bar redrawn in place; under
/// mpirun, srun or a batch job each group's root prints plain lines, since a launcher hands its
/// ranks a pseudo-terminal even when its own output goes to a log.
final class TrainingProgress {
    /// The members this group trains, in order.
    let members: [Int]
    let epochs: Int
    private let line: ProgressLine
    private var timedEpochs = 0
    private var timedSeconds = 0.0

    init(members: [Int], epochs: Int, redraws: Bool = TrainingProgress.terminalOutsideLauncher) {
        self.members = members
        self.epochs = epochs
        line = ProgressLine(redraws: redraws)
    }

    /// Whether stdout is a terminal and no launcher started this process (`MPIEnvironment.launcherVariable`).
    static var terminalOutsideLauncher: Bool { isatty(1) != 0 && MPIEnvironment.launcherVariable == nil }

    /// Prints `line` for an epoch that took `seconds`. The mean is over the epochs printed
    /// (`--print-every`), a sample of all of them.
    func epochFinished(member: Int, epoch: Int, seconds: Double, line text: String) {
        timedEpochs += 1
        timedSeconds += seconds
        let eta = Self.duration(timedSeconds / Double(timedEpochs) * Double(epochsLeft(member: member, epoch: epoch)))
        line.show(done: epoch, of: epochs, eta: eta, text: text)
    }

    /// Ends a bar left open (a member that stopped before its last epoch), so later output starts a line.
    func endLine() { line.endLine() }

    /// This member's epochs after `epoch` and every epoch of the group's members after it.
    func epochsLeft(member: Int, epoch: Int) -> Int {
        let later = members.firstIndex(of: member).map { members.count - $0 - 1 } ?? 0
        return max(epochs - epoch, 0) + later * epochs
    }

    /// "42s", "3m05s", "2h07m" (`ProgressLine.duration`).
    static func duration(_ seconds: Double) -> String { ProgressLine.duration(seconds) }
}

extension ProgressMeter {
    /// A meter for a phase rank 0 runs: a bar on a terminal outside any launcher, else plain lines.
    public convenience init(title: String, total: Int, unit: String) {
        self.init(title: title, total: total, unit: unit, redraws: TrainingProgress.terminalOutsideLauncher)
    }
}
