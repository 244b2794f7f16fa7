import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The one place progress is drawn on stdout: on a terminal a bar redrawn in place, the ETA
/// first, cut to the terminal's width (a wrapped line would not be redrawn); elsewhere plain
/// lines. Whether to redraw is the caller's (it knows whether a launcher started the process).
public final class ProgressLine {
    public let redraws: Bool
    /// A bar is drawn and not yet ended by a newline.
    private var lineOpen = false
    public static let barWidth = 20

    public init(redraws: Bool) {
        self.redraws = redraws
    }

    /// `done` of `total` with its `eta` and `text`: the bar, or the line `text  ETA`.
    public func show(done: Int, of total: Int, eta: String, text: String) {
        if redraws {
            let filled = Self.barWidth * min(max(done, 0), total) / max(total, 1)
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: Self.barWidth - filled)
            // Carriage return and erase-to-end-of-line: the bar replaces the previous one.
            let line = "[\(bar)] ETA \(eta)  \(text)"
            print("\r\u{1B}[K" + String(line.prefix(max(Self.terminalColumns - 1, 40))), terminator: "")
            lineOpen = true
            if done >= total { endLine() }
        } else {
            print("\(text)  ETA \(eta)")
        }
        fflush(nil)
    }

    /// Ends a bar left open, so later output starts a line.
    public func endLine() {
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

    /// "42s", "3m05s", "2h07m".
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let whole = Int(min(seconds.rounded(), 1e9))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return "\(whole / 60)m" + String(format: "%02ds", whole % 60) }
        return "\(whole / 3600)h" + String(format: "%02dm", whole / 60 % 60)
    }
}

/// A phase counted in items (structures evaluated, structures swapped), with the time left from
/// the mean time per item so far. A bar is redrawn at most `redrawInterval` apart; plain lines
/// (under a launcher, or into a file) at most `lineInterval` apart, and none for a phase that
/// ends sooner, so logs of short runs stay as they were.
public final class ProgressMeter: @unchecked Sendable {
    public let title: String
    public let total: Int
    public let unit: String
    let line: ProgressLine
    private let started = ContinuousClock.now
    private var lastShown: ContinuousClock.Instant?
    private(set) var done = 0
    static let redrawInterval = 0.2, lineInterval = 10.0

    public init(title: String, total: Int, unit: String, redraws: Bool) {
        (self.title, self.total, self.unit) = (title, max(total, 0), unit)
        line = ProgressLine(redraws: redraws)
    }

    /// `count` more items done; shown when the interval has passed (and at the end, as a bar).
    public func advance(by count: Int = 1) {
        done = min(done + max(count, 0), total)
        let now = ContinuousClock.now
        let interval = line.redraws ? Self.redrawInterval : Self.lineInterval
        let due = lastShown.map { Self.seconds(now - $0) >= interval } ?? (line.redraws || Self.seconds(now - started) >= interval)
        guard due || (line.redraws && done == total) else { return }
        lastShown = now
        let elapsed = Self.seconds(now - started)
        let eta = done > 0 ? ProgressLine.duration(elapsed / Double(done) * Double(total - done)) : "?"
        line.show(done: done, of: total, eta: eta, text: "\(title) \(done)/\(total) \(unit)")
    }

    /// Ends an open bar (a phase stopped early by an error leaves the terminal at a fresh line).
    public func finish() { line.endLine() }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
