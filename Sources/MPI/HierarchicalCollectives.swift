#if canImport(Glibc)
import Glibc
#endif

/// Open MPI's hierarchical collectives (coll/han, Open MPI 4.1): an all-reduce that reduces
/// within each node through shared memory first, crosses the network once per node, and
/// broadcasts within the node. Open MPI ships it with priority 0, below coll/tuned's 30, so it
/// is used only when its priority is raised before MPI_Init: `mpirun --mca coll_han_priority 100`
/// (which reaches the ranks as the variable below) or the variable set in the ranks' environment.
/// It takes blocking collectives only: non-blocking ones (MPI_Iallreduce) stay with coll/libnbc.
public enum HierarchicalCollectives {
    /// The environment variable through which Open MPI reads the component's priority.
    public static let priorityVariable = "OMPI_MCA_coll_han_priority"
    /// coll/tuned's default priority: han must be above it to be chosen.
    public static let tunedPriority = 30
    /// The priority SiteLens asks for when it enables han itself.
    public static let enabledPriority = 100

    /// Whether this process's environment raises han above tuned (read at MPI_Init).
    public static var isEnabled: Bool {
        guard let text = getenv(priorityVariable).map({ String(cString: $0) }), let priority = Int(text) else { return false }
        return priority > tunedPriority
    }

    /// Raises han's priority in this process's environment, for the MPI_Init still to come
    /// (every rank runs this itself, so every rank's MPI picks han). A priority the user set is
    /// kept if it enables han, and refused if it keeps han off.
    public static func enable() throws {
        if MPIEnvironment.isInitialized {
            throw MPIUsageError(call: "MPI_Init_thread", reason: "coll/han must be enabled before MPI_Init")
        }
        if let given = getenv(priorityVariable).map({ String(cString: $0) }) {
            guard isEnabled else {
                throw MPIUsageError(call: "MPI_Init_thread", reason: "\(priorityVariable)=\(given) keeps coll/han below coll/tuned (\(tunedPriority)); unset it or raise it")
            }
            return
        }
        setenv(priorityVariable, "\(enabledPriority)", 0)
    }
}
