import ArgumentParser

/// The `sitelens` command: one subcommand type per task.
@main
struct SiteLens: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sitelens",
        abstract: "Train energy models of atomic structures under MPI, then explain them site by site.",
        subcommands: [Train.self, Decompose.self, Predict.self, Generate.self, Rasterise.self, Bench.self, MPIInfo.self])
}
