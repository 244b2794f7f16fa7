// swift-tools-version:6.0
// SiteLens: train energy models of atomic structures under MPI, then explain them site by site.
//
// Targets follow the pipeline, and data flows one way:
//   Structures → Images → Networks → Training (the only MPI user besides MPI itself)
//   → Decomposition → Reports, all driven by the `sitelens` command.
import PackageDescription

let package = Package(
    name: "SiteLens",
    products: [
        .executable(name: "sitelens", targets: ["sitelens"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        // System libraries: the only places that include C headers.
        .systemLibrary(
            name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]),
        // MPI: the Swift face of MPI; nothing else imports CMPI.
        .target(name: "MPI", dependencies: ["CMPI"]),
        .executableTarget(
            name: "sitelens",
            dependencies: [
                "MPI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Started by the multi-rank tests under real mpirun.
        .executableTarget(name: "mpi-test-helper", dependencies: ["MPI"], path: "Tests/Helpers/mpi-test-helper"),
        .target(name: "TestSupport", path: "Tests/Support/TestSupport"),
        .testTarget(name: "MPITests", dependencies: ["MPI", "TestSupport", "mpi-test-helper"]),
    ]
)
