import ArgumentParser
import MPI
#if canImport(Glibc)
import Glibc
#endif

/// `sitelens mpi-info`: what MPI this job runs on, to check a launch before a long run.
struct MPIInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi-info",
        abstract: "Print the rank count, processor names, Open MPI version and thread level.")

    @Flag(name: .customLong("all-ranks"), help: "Every rank prints its own line, not only rank 0's summary.")
    var allRanks = false

    func run() throws {
        try withMPI { mpi in
            let world = mpi.world
            let host = mpi.processorName
            // Every rank's host name reaches rank 0 so the summary can count ranks per host.
            let names = try world.gatherv(Array(host.utf8), root: 0)
            if let names {
                var perHost: [String: Int] = [:]
                var order: [String] = []
                for bytes in names {
                    let name = String(decoding: bytes, as: UTF8.self)
                    if perHost[name] == nil { order.append(name) }
                    perHost[name, default: 0] += 1
                }
                let (major, minor) = mpi.standardVersion
                print("SiteLens MPI: \(world.size) rank\(world.size == 1 ? "" : "s") on \(order.count) host\(order.count == 1 ? "" : "s")")
                print("  library:      \(mpi.libraryVersion) (MPI \(major).\(minor))")
                print("  thread level: requested \(mpi.requestedThreadLevel), granted \(mpi.grantedThreadLevel)")
                for name in order { print("  host \(name): \(perHost[name]!) rank\(perHost[name]! == 1 ? "" : "s")") }
                print("  this rank:    \(world.rank) on \(host)")
            }
            if allRanks {
                // Take turns so lines from different ranks do not interleave mid-line.
                for turn in 0..<world.size {
                    if turn == world.rank {
                        print("rank \(world.rank) of \(world.size) on \(host), thread level \(mpi.grantedThreadLevel)")
                        fflush(nil)
                    }
                    try world.barrier()
                }
            }
        }
    }
}
