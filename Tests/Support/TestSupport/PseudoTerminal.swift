import Foundation

/// A command run under a pseudo-terminal (util-linux's `script`), as a user at a terminal runs
/// it: what the progress bars draw is captured, redraws included.
public enum PseudoTerminal {
    /// util-linux's `script`, which gives the command a pseudo-terminal.
    public static let script = "/usr/bin/script"
    /// Whether `script` is here (tests that need a terminal skip without it).
    public static var available: Bool { FileManager.default.isExecutableFile(atPath: script) }
    /// Clears the launcher variables a CI job may carry, so the command sees only the terminal.
    public static let withoutLauncher = "env -u SLURM_JOB_ID -u PBS_JOBID -u PMI_SIZE -u PMIX_RANK -u OMPI_COMM_WORLD_SIZE "
    /// What a bar writes before each redraw: carriage return, erase to the end of the line.
    public static let redraw = "\r\u{1B}[K["

    /// `command` (a shell line) run under a pseudo-terminal 200 columns wide, its terminal output captured.
    public static func run(_ command: String, timeout: Double = 600) throws -> ProcessOutcome {
        try runProcess(script, ["-qec", command, "/dev/null"], environment: ["COLUMNS": "200"], timeout: timeout)
    }
}
