import ArgumentParser
import Basics
import Training

/// The `sitelens` command: one subcommand type per task. Each parses its options and calls
/// the modules; the executable target only starts it.
public struct SiteLens: ParsableCommand {
    public init() {}

    public static func main() {
        markProcessStart()
        do {
            // A `train --config FILE`'s options become arguments before the typed ones.
            var command = try parseAsRoot(try TrainConfigFile.expanded(Array(CommandLine.arguments.dropFirst())).arguments)
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    public static let configuration = CommandConfiguration(
        commandName: "sitelens",
        abstract: "Train energy models of atomic structures under MPI, then explain them site by site.",
        version: SiteLensVersion.described,
        subcommands: [Train.self, Check.self, Decompose.self, Predict.self, Screen.self, Generate.self, Rasterise.self, Bench.self, MPIInfo.self])
}
