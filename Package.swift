// swift-tools-version:6.0
// SiteLens: train energy models of atomic structures under MPI, then explain them site by site.
//
// Targets follow the pipeline, and data flows one way (Docs/Architecture.md draws it):
//   Structures → Images → Networks → Training and Decomposition → Reports → Benchmarks, all
//   driven by SiteLensCommands (one type per subcommand, parsing only), which the `sitelens`
//   executable starts. Only MPI talks to Open MPI; only Training, Benchmarks and Screening call collectives.
import PackageDescription

let package = Package(
    name: "SiteLens",
    products: [
        .executable(name: "sitelens", targets: ["sitelens"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/yaslab/CSV.swift", exact: "2.5.2"),
    ],
    targets: [
        // System libraries: the only places that include C headers.
        .systemLibrary(
            name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // oneDNN ships no pkg-config file (Debian's 2.6 nor PyPI's 3.x): the module map links "dnnl".
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // The one C file that calls oneDNN; it hides every 2.x/3.x API difference. C files do not
        // autolink the module map's library (only Swift imports do), hence the linker setting.
        // SITELENS_DNNL_LINK (e.g. ":libdnnl.so.3") names another build: the system folders come
        // first on the link line (from pkg-config), so a plain "dnnl" would find Debian's 2.x.
        .target(name: "CDNNLShim", dependencies: ["CDNNL"], path: "Sources/CDNNLShim",
                linkerSettings: [.linkedLibrary(Context.environment["SITELENS_DNNL_LINK"] ?? "dnnl")]),
        // Basics: seeded random numbers, input errors, atomic file writes.
        .target(name: "Basics", dependencies: ["CZlib"]),
        // Structures: atoms, elements, extxyz, the HEA site table and its site template.
        .target(name: "Structures", dependencies: ["Basics", .product(name: "CSV", package: "CSV.swift")]),
        // Images: the Gaussian rasteriser (Ryczko et al.), .npy and PNG output.
        .target(name: "Images", dependencies: ["Basics", "Structures", "CZlib"]),
        // Networks: flat parameter buffers, layer kernels (OpenBLAS, oneDNN), the three models, Adam, safetensors files.
        .target(name: "Networks", dependencies: ["Basics", "Structures", "Images", "CBLAS", "CDNNLShim"]),
        // MPI: the Swift face of MPI; nothing else imports CMPI.
        .target(name: "MPI", dependencies: ["CMPI"]),
        // Training: data-parallel training of ensemble members; with Benchmarks, the only MPI user.
        .target(name: "Training", dependencies: ["MPI", "Networks", "Structures", "Basics"]),
        // Decomposition: per-site and per-element contributions read off trained members.
        .target(name: "Decomposition", dependencies: ["Networks", "Structures"]),
        // Reports: a run's tables (CSV, JSON) and SVG plots, written into its RunFolder.
        // It also sequences a training run to its end (`trainAndReport`); it calls no collective itself.
        .target(name: "Reports", dependencies: ["Decomposition", "Training", "Networks", "Structures", "Basics", .product(name: "CSV", package: "CSV.swift")]),
        // Benchmarks: each `sitelens bench` benchmark's configuration, run and table. It launches
        // `sitelens` under mpirun, and its overlap and frame-index runs call the MPI collectives
        // they measure: besides Training, the one other MPI user (the command target calls none).
        .target(name: "Benchmarks", dependencies: ["MPI", "Basics", "Structures", "Images", "Networks", "Training", "Reports"]),
        // Screening: every site occupation of `sites` runs scored from exact member tables, ranked
        // with the ensemble's spread, sharded over ranks (its runner gathers once: a collective user).
        .target(name: "Screening", dependencies: ["MPI", "Networks", "Structures", "Basics", "Training", "Reports"]),
        // The subcommands: each parses its options and calls the modules.
        .target(
            name: "SiteLensCommands",
            dependencies: [
                "MPI", "Basics", "Structures", "Images", "Networks", "Training", "Decomposition", "Reports", "Benchmarks", "Screening",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "sitelens", dependencies: ["SiteLensCommands"]),
        // Started by the multi-rank tests under real mpirun.
        .executableTarget(name: "mpi-test-helper", dependencies: ["MPI"], path: "Tests/Helpers/mpi-test-helper"),
        // The hostile-input harness that tests and CI run (`swift run sitelens-fuzz`): a tool, not a user's command.
        .executableTarget(
            name: "sitelens-fuzz",
            dependencies: ["SiteLensCommands", "Training", "Networks", "Images", "Structures", "Basics",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tests/Helpers/sitelens-fuzz"),
        .target(name: "TestSupport", path: "Tests/Support/TestSupport"),
        .testTarget(name: "MPITests", dependencies: ["MPI", "TestSupport", "mpi-test-helper"]),
        .testTarget(name: "StructuresTests", dependencies: ["Structures", "Basics", "TestSupport"]),
        .testTarget(name: "NetworksTests", dependencies: ["Networks", "Images", "Structures", "Basics", "TestSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Networks", "Structures", "Basics", "TestSupport", "sitelens"]),
        .testTarget(name: "DecompositionTests", dependencies: ["Decomposition", "Networks", "Structures", "Basics", "Reports", "TestSupport", "sitelens"]),
        .testTarget(name: "LaunchTests", dependencies: ["TestSupport", "sitelens", "SiteLensCommands", "Networks"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "Structures", "Basics", "TestSupport", "sitelens"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Training", "TestSupport", "sitelens"]),
        .testTarget(name: "ScreeningTests", dependencies: ["Screening", "Structures", "Basics", "Networks", "Training", "TestSupport", "sitelens", "mpi-test-helper"]),
        // Hostile inputs (issue 10) against the `sitelens` binary, and the `sitelens-fuzz` run.
        .testTarget(name: "FuzzTests", dependencies: ["TestSupport", "Basics", "sitelens", "sitelens-fuzz"]),
    ]
)
