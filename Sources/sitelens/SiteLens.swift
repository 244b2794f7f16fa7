import ArgumentParser
import Training

/// The `sitelens` command: one subcommand type per task.
@main
struct SiteLens: ParsableCommand {
    static func main() {
        markProcessStart()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "sitelens",
        abstract: "Train energy models of atomic structures under MPI, then explain them site by site.",
        subcommands: [Train.self, Decompose.self, Predict.self, Generate.self, Rasterise.self, Bench.self, MPIInfo.self, Fuzz.self])
}
