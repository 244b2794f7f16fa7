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
    let redraws: Bool
    private var timedEpochs = 0
    private var timedSeconds = 0.0
    /// A bar is drawn and not yet ended by a newline.
    private var lineOpen = false
    static let barWidth = 20

    init(members: [Int], epochs: Int, redraws: Bool = TrainingProgress.terminalOutsideLauncher) {
        self.members = members
        self.epochs = epochs
        self.redraws = redraws
    }

    /// Whether stdout is a terminal and no launcher started this process (`MPIEnvironment.launcherVariable`).
    static var terminalOutsideLauncher: Bool { isatty(1) != 0 && MPIEnvironment.launcherVariable == nil }

    /// Prints `line` for an epoch that took `seconds`. The mean is over the epochs printed
    /// (`--print-every`), a sample of all of them.
    func epochFinished(member: Int, epoch: Int, seconds: Double, line: String) {
        timedEpochs += 1
        timedSeconds += seconds
        let eta = "ETA \(Self.duration(timedSeconds / Double(timedEpochs) * Double(epochsLeft(member: member, epoch: epoch))))"
        if redraws {
            let done = Self.barWidth * min(max(epoch, 0), epochs) / max(epochs, 1)
            let bar = String(repeating: "#", count: done) + String(repeating: ".", count: Self.barWidth - done)
            // Carriage return and erase-to-end-of-line: the bar replaces the previous one. It is
            // cut to the terminal's width (a wrapped line would not be redrawn), the ETA first.
            let text = "[\(bar)] \(eta)  \(line)"
            print("\r\u{1B}[K" + String(text.prefix(max(Self.terminalColumns - 1, 40))), terminator: "")
            lineOpen = true
            if epoch >= epochs { endLine() }
        } else {
            print("\(line)  \(eta)")
        }
        fflush(nil)
    }

    /// Ends a bar left open (a member that stopped before its last epoch), so later output starts a line.
    func endLine() {
        guard lineOpen else { return }
        print("")
        fflush(nil)
        lineOpen = false
    }

    /// The terminal's width in characters (80 when it does not say).
    static var terminalColumns: Int {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// This member's epochs after `epoch` and every epoch of the group's members after it.
    func epochsLeft(member: Int, epoch: Int) -> Int {
        let later = members.firstIndex(of: member).map { members.count - $0 - 1 } ?? 0
        return max(epochs - epoch, 0) + later * epochs
    }

    /// "42s", "3m05s", "2h07m".
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let whole = Int(min(seconds.rounded(), 1e9))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m" + String(format: "%02ds", whole % 60) }
        return "\(whole / 3600)h" + String(format: "%02dm", whole / 60 % 60)
    }
}
