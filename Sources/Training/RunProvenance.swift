import Basics
import Foundation
import MPI

/// How one part of a run was made (a fresh start, or each `--resume`): the command line, the
/// SiteLens that ran it (`SiteLensVersion`), where (ranks, nodes, rank 0's host) and when
/// (ISO 8601, UTC). Kept in `run.json`; it explains a run and never decides whether a resume
/// matches (`RunRecord.mismatches` ignores it).
public struct RunProvenance: Codable, Sendable, Equatable {
    /// The command as typed (each argument as the shell passed it), the executable first.
    public var commandLine: [String]
    public var version: String
    public var ranks: Int
    /// Distinct host names among the ranks.
    public var nodes: Int
    public var host: String
    public var started: String
    /// When the part ended (written by `TrainingRun.finish`; absent while training or after a crash).
    public var finished: String?
    /// The `train --config` file, as it was read (absent when no file was given).
    public var configFile: ConfigFile?

    /// A config file's path as given and its text (at most `ConfigFile.byteLimit` bytes).
    public struct ConfigFile: Codable, Sendable, Equatable {
        public static let byteLimit = 1 << 20
        public var path: String
        public var contents: String

        public init(path: String, contents: String) {
            (self.path, self.contents) = (path, contents)
        }
    }

    public init(commandLine: [String], version: String, ranks: Int, nodes: Int, host: String, started: String, finished: String?,
                configFile: ConfigFile? = nil) {
        (self.commandLine, self.version, self.ranks, self.nodes, self.host) = (commandLine, version, ranks, nodes, host)
        (self.started, self.finished, self.configFile) = (started, finished, configFile)
    }

    /// This process's part, started now. A collective: every rank names its host.
    static func gathered(world: Communicator, configFile: ConfigFile? = nil) throws -> RunProvenance? {
        let host = ProcessInfo.processInfo.hostName
        guard let hosts = try world.gather(host, root: 0) else { return nil }
        return RunProvenance(commandLine: CommandLine.arguments, version: SiteLensVersion.described, ranks: world.size,
                             nodes: Set(hosts).count, host: host, started: Self.now(), finished: nil, configFile: configFile)
    }

    static func now() -> String { Date().formatted(Date.ISO8601FormatStyle()) }

    /// Values a run writes: a command, at least one rank, 1...ranks nodes.
    func problem() -> String? {
        if commandLine.first?.isEmpty != false { return "commandLine \(commandLine); a run records the command that made it, the executable first" }
        if ranks < 1 { return "ranks \(ranks); must be at least 1" }
        if !(1...ranks).contains(nodes) { return "nodes \(nodes); must be in 1...ranks (\(ranks))" }
        for (name, time) in [("started", started), ("finished", finished)] {
            if let time, (try? Date(time, strategy: .iso8601)) == nil { return "\(name) '\(time)'; a run writes an ISO 8601 time" }
        }
        if let configFile, configFile.path.isEmpty || configFile.contents.utf8.count > ConfigFile.byteLimit {
            return "configFile: a path and at most \(ConfigFile.byteLimit) bytes of contents"
        }
        return nil
    }
}
