import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Starts the `sitelens` executable (under mpirun or alone) for the benchmarks that measure
/// whole runs. Which file that is comes from the caller: the command passes the running
/// executable (`runningExecutable()`), tests pass the one in the build products.
public struct SiteLensLauncher: Sendable {
    /// The `sitelens` executable, absolute.
    public let executable: URL

    public init(executable: URL) { self.executable = executable }

    /// The executable of this process, from `/proc/self/exe` (resolved): right however it was
    /// started (through PATH, a relative path or a symbolic link), unlike `argv[0]`, which is
    /// only the name the shell was given.
    public static func runningExecutable() -> SiteLensLauncher {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return SiteLensLauncher(executable: URL(fileURLWithPath: target).resolvingSymlinksInPath())
        }
        return SiteLensLauncher(executable: (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).resolvingSymlinksInPath())
    }

    /// The executable under `mpirun -np ranks` with `arguments` (oversubscribed only beyond the
    /// cores, the root variables only for root, one OpenBLAS thread per rank), not yet started.
    public func mpirun(ranks: Int, _ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let oversubscribe = ranks > ProcessInfo.processInfo.activeProcessorCount ? ["--oversubscribe"] : []
        process.arguments = ["mpirun", "-np", "\(ranks)"] + oversubscribe + ["-x", "OPENBLAS_NUM_THREADS=1", executable.path] + arguments
        process.environment = Self.childEnvironment()
        return process
    }

    /// This process's environment for a new mpirun: without Open MPI's own variables (a process
    /// that ran MPI as a singleton carries them, and an mpirun inheriting them takes itself for
    /// one of its ranks), with the root permissions when running as root.
    static func childEnvironment() -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { key, _ in
            !["OMPI_", "PMIX_", "OPAL_", "ORTE_"].contains { key.hasPrefix($0) } || key.hasPrefix("OMPI_ALLOW_RUN_AS_ROOT")
        }
        if getuid() == 0 {
            environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
            environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        }
        return environment
    }

    /// Runs the executable under mpirun to its end and returns its exit status and standard
    /// output (standard error goes to this process's).
    func mpirunCapturing(ranks: Int, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = mpirun(ranks: ranks, arguments)
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }
}
