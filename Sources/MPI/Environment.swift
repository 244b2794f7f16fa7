import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// MPI's thread-support levels, in increasing order.
public enum ThreadLevel: Int, Comparable, CaseIterable, Sendable, CustomStringConvertible {
    case single, funneled, serialized, multiple

    init(mpiValue: Int32) {
        switch mpiValue {
        case cmpi_thread_multiple(): self = .multiple
        case cmpi_thread_serialized(): self = .serialized
        case cmpi_thread_funneled(): self = .funneled
        default: self = .single
        }
    }

    var mpiValue: Int32 {
        switch self {
        case .single: return cmpi_thread_single()
        case .funneled: return cmpi_thread_funneled()
        case .serialized: return cmpi_thread_serialized()
        case .multiple: return cmpi_thread_multiple()
        }
    }

    public var description: String {
        switch self {
        case .single: return "MPI_THREAD_SINGLE"
        case .funneled: return "MPI_THREAD_FUNNELED"
        case .serialized: return "MPI_THREAD_SERIALIZED"
        case .multiple: return "MPI_THREAD_MULTIPLE"
        }
    }

    public static func < (a: ThreadLevel, b: ThreadLevel) -> Bool { a.rawValue < b.rawValue }
}

/// The process's one MPI session: initialised once, finalised once.
///
/// Works the same under `mpirun` and in a program started on its own (a 1-rank singleton).
/// `finalize()` ends it; if a program forgets, an exit handler finalises it so Open MPI does
/// not report an unclean exit.
public final class MPIEnvironment: @unchecked Sendable {
    /// The thread level asked for and the level MPI granted.
    public let requestedThreadLevel: ThreadLevel
    public let grantedThreadLevel: ThreadLevel
    /// All processes of the job, with MPI_ERRORS_RETURN installed.
    public let world: Communicator

    nonisolated(unsafe) private static var current: MPIEnvironment?

    /// The variables a launcher (mpirun, srun, a batch system) sets for the processes it starts.
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_JOB_ID", "PBS_JOBID"]
    /// The first launcher variable this process was started with, read before `MPI_Init`: Open
    /// MPI's singleton init sets `PMIX_RANK` itself, so a later look would always see a launcher.
    nonisolated(unsafe) public private(set) static var launcherVariable: String?

    private init(requested: ThreadLevel, granted: ThreadLevel, world: Communicator) {
        self.requestedThreadLevel = requested
        self.grantedThreadLevel = granted
        self.world = world
    }

    /// Initialises MPI, or returns the session already started in this process.
    public static func initialize(requesting level: ThreadLevel = .funneled) throws -> MPIEnvironment {
        if let current { return current }
        guard !isFinalized else {
            throw MPIUsageError(call: "MPI_Init_thread", reason: "MPI was already finalised in this process")
        }
        launcherVariable = launcherVariables.first { getenv($0) != nil }
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, level.mpiValue, &provided), "MPI_Init_thread")
        let world = Communicator(predefined: cmpi_comm_world())
        // Errors come back as codes (and become Swift errors) instead of killing the job.
        try check(MPI_Comm_set_errhandler(world.handle, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        try check(MPI_Comm_set_errhandler(cmpi_comm_self(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
        try world.loadRankAndSize()
        let environment = MPIEnvironment(requested: level, granted: ThreadLevel(mpiValue: provided), world: world)
        current = environment
        atexit { MPIEnvironment.current?.finalize() }
        return environment
    }

    /// Whether MPI_Init has run in this process.
    public static var isInitialized: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    /// Whether MPI_Finalize has run in this process.
    public static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    /// Ends the MPI session; later calls do nothing.
    public func finalize() {
        guard !MPIEnvironment.isFinalized else { return }
        MPI_Finalize()
    }

    /// This host's name as MPI reports it.
    public var processorName: String {
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_processor_name()) + 1)
        var length: Int32 = 0
        guard MPI_Get_processor_name(&buffer, &length) == cmpi_success() else { return "unknown" }
        return textBeforeNul(buffer)
    }

    /// The MPI library's own version line (for Open MPI: "Open MPI v4.1.4, ...").
    public var libraryVersion: String {
        var buffer = [CChar](repeating: 0, count: Int(cmpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        guard MPI_Get_library_version(&buffer, &length) == cmpi_success() else { return "unknown" }
        let text = textBeforeNul(buffer)
        return text.split(separator: "\n").first.map(String.init) ?? text
    }

    /// The MPI standard version the library implements.
    public var standardVersion: (major: Int, minor: Int) {
        var major: Int32 = 0, minor: Int32 = 0
        MPI_Get_version(&major, &minor)
        return (Int(major), Int(minor))
    }
}
