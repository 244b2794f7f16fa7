import Basics
import Foundation
import MPI

/// Ends the job when training stops making progress: a rank or a whole node that stops
/// answering without a word (a stopped process, a cut link: no TCP reset comes, so the
/// all-reduce would wait forever). Training beats it once a step and once an epoch; a thread of
/// its own checks every half second. After `timeout` seconds without a beat it prints where
/// this rank waits; after as long again it aborts the job, as Horovod's stall check and
/// PyTorch's collective timeout do. The pause between the two is for a node cut off: mpirun's
/// keepalive probes (`sitelens_detect_lost_nodes` in Launch/common.sh) then end the job first,
/// naming the node, whereas an abort sent towards a node that cannot answer would wait on TCP's
/// retransmissions for many minutes. The last checkpoint is left as it was, for `--resume`.
final class StallWatchdog: @unchecked Sendable {
    private let timeout: Double
    private let communicator: Communicator
    private let condition = NSCondition()
    private var lastBeat = ContinuousClock.now
    /// Where training last got to, kept as numbers: the text is made only when it is printed.
    private var place = Place(member: 0, epoch: 0, step: nil, steps: 0)
    private var running = true
    private var warned = false

    /// Watches `communicator`'s work on `member`; nil when `timeout` is nil (no watch).
    static func start(timeout: Double?, communicator: Communicator, member: Int) -> StallWatchdog? {
        guard let timeout else { return nil }
        let watchdog = StallWatchdog(timeout: timeout, communicator: communicator)
        watchdog.place.member = member
        let thread = Thread { watchdog.watch() }
        thread.name = "sitelens-stall-watchdog"
        thread.start()
        return watchdog
    }

    private init(timeout: Double, communicator: Communicator) {
        self.timeout = timeout
        self.communicator = communicator
    }

    /// Where training can be: a step of an epoch, or (no step) the epoch's errors after its steps.
    struct Place: CustomStringConvertible {
        var member: Int, epoch: Int, step: Int?, steps: Int
        var description: String {
            guard epoch > 0 else { return "member \(member)'s start" }
            return step.map { "member \(member), epoch \(epoch), step \($0) of \(steps)" } ?? "member \(member), epoch \(epoch)'s errors"
        }
    }

    /// Progress: training reached `place`.
    func beat(_ place: Place) {
        condition.lock()
        lastBeat = .now
        self.place = place
        condition.unlock()
    }

    /// Stops watching (training is over); the thread ends within half a second.
    func stop() {
        condition.lock()
        running = false
        condition.signal()
        condition.unlock()
    }

    private func watch() {
        condition.lock()
        defer { condition.unlock() }
        while running {
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.5))
            guard running else { return }
            let silent = (ContinuousClock.now - lastBeat).seconds
            if silent > 2 * timeout {
                communicator.abort(String(format: "on %@: no training step finished for %.0f s after %@; ending the job. "
                                          + "--resume continues from the last checkpoint", hostName(), silent, place.description))
            } else if silent > timeout && !warned {
                warned = true
                let line = String(format: "sitelens: rank %d on %@: no training step finished for %.0f s after %@; a rank or node of this "
                                  + "job stopped answering (a hung process or a cut link). The job ends in %.0f s unless it goes on "
                                  + "(--stall-timeout sets the limit)\n", communicator.rank, hostName(), silent, place.description, timeout)
                line.withCString { _ = write(2, $0, strlen($0)) }
            } else if silent <= timeout {
                warned = false
            }
        }
    }
}
