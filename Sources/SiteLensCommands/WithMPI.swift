import MPI
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` inside the process's MPI session. An error on any rank of a multi-rank job ends
/// the whole job at once with that rank's message (MPI_Abort), so no other rank waits forever
/// in a collective; a 1-rank run rethrows so the usual error message and exit code appear.
func withMPI(_ body: (MPIEnvironment) throws -> Void) throws {
    let mpi = try MPIEnvironment.initialize(requesting: .funneled)
    do {
        try body(mpi)
    } catch {
        if mpi.world.size > 1 { mpi.world.abort("error: \(error)") }
        throw error
    }
    fflush(nil)
    mpi.finalize()
}
