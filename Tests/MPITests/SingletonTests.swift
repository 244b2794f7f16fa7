import Testing
import TestSupport
@testable import MPI

/// A program started without mpirun is a 1-rank singleton. MPI is never initialised inside the
/// test process itself: Open MPI's singleton machinery takes over SIGCHLD and would break every
/// later test that starts a child process, so the helper runs as its own program.
struct SingletonTests {
    @Test func aProgramWithoutMpirunIsAOneRankWorld() throws {
        let helper = buildProductsDirectory().appendingPathComponent("mpi-test-helper").path
        let run = try runProcess(helper, ["singleton"], timeout: 60)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = keyValueLines(run.stdout, requiring: "check")
        var values: [String: String] = [:]
        for line in lines {
            #expect(line["ok"] == "1", "singleton check \(line["check"]!) failed: \(line["value"] ?? "")")
            values[line["check"]!] = line["value"]
        }
        #expect(Set(values.keys) == ["size", "init-twice", "sum", "gatherv", "broadcast-array", "split",
                                     "request-keeps-memory", "request-abandoned", "datatypes", "root-refused", "mpi-error"])
        #expect(values["size"] == "1")
        #expect(values["datatypes"] == "MPI_FLOAT:4,MPI_DOUBLE:8,MPI_INT32_T:4,MPI_INT64_T:8,MPI_UINT64_T:8,MPI_BYTE:1")
        #expect(values["mpi-error"]?.lowercased().contains("root") == true, "MPI's text: \(values["mpi-error"] ?? "")")
    }

    @Test func aPendingRequestDroppedUnwaitedStopsTheProcessAtOnce() throws {
        let helper = buildProductsDirectory().appendingPathComponent("mpi-test-helper").path
        let run = try runProcess(helper, ["drop-request"], timeout: 60)
        #expect(!run.timedOut)
        #expect(run.status != 0, "the process went on after dropping a pending request")
        #expect(run.stderr.contains("MPI_Iallreduce request was dropped without wait()"), "stderr: \(run.stderr)")
        #expect(!run.stdout.contains("survived-drop"), "stdout: \(run.stdout)")
    }

    @Test func bucketsAreCutFromTheEndAtLayerStartsAndTileTheBuffer() {
        // 8-byte elements; layers start at 0, 10, 30, 35, 90; at least 160 bytes (20 elements) a bucket.
        let buckets = BucketedAllReduce<Double>.cut(count: 100, boundaries: [0, 10, 30, 35, 90], bytes: 160)
        #expect(buckets == [35..<100, 10..<35, 0..<10])
        #expect(BucketedAllReduce<Double>.cut(count: 100, boundaries: [0, 10, 30, 35, 90], bytes: 0) == [0..<100])
        #expect(BucketedAllReduce<Float>.cut(count: 100, boundaries: [90, 10], bytes: 4) == [90..<100, 10..<90, 0..<10])
        #expect(BucketedAllReduce<Double>.cut(count: 100, boundaries: [50], bytes: 1 << 20) == [0..<100])
        #expect(BucketedAllReduce<Double>.cut(count: 0, boundaries: [], bytes: 8).isEmpty)
    }

    @Test func countsThatDoNotFitMPIAreRefusedBeforeMPISeesThem() throws {
        #expect(throws: MPIUsageError.self) { try mpiCount(Int(Int32.max) + 1, "MPI_Allreduce") }
        #expect(throws: MPIUsageError.self) { try mpiCount(-1, "MPI_Allreduce") }
        #expect(try mpiCount(1_000_000, "MPI_Allreduce") == 1_000_000)
    }

    @Test func errorsReadAsCallCodeAndText() {
        // MPI's own text needs an initialised MPI, so the helper checks that part; here, the form.
        let error = MPIError(call: "MPI_Allreduce", code: 5, message: "MPI_ERR_COUNT: invalid count argument")
        #expect(error.description == "MPI_Allreduce failed (MPI error 5): MPI_ERR_COUNT: invalid count argument")
    }

    @Test func threadLevelsAreOrdered() {
        #expect(ThreadLevel.single < .funneled && ThreadLevel.funneled < .serialized && ThreadLevel.serialized < .multiple)
        #expect(ThreadLevel.funneled.description == "MPI_THREAD_FUNNELED")
    }
}
