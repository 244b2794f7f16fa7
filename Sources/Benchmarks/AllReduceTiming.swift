import Basics
import Foundation
import MPI

/// `bench cluster`'s all-reduce timings, run on every rank of an mpirun job (`bench
/// cluster-run`): MPI_Allreduce of Double buffers of several sizes, each the median over rounds
/// of the slowest rank's time after a barrier. Rank 0 prints one line per size,
/// `allreduce-seconds BYTES SECONDS`, which `ClusterBenchmark` reads.
public struct AllReduceTiming: Sendable {
    /// The prefix of each result line.
    public static let linePrefix = "allreduce-seconds"

    public var bytes: [Int]
    public var rounds: Int

    public init(bytes: [Int], rounds: Int) { (self.bytes, self.rounds) = (bytes, rounds) }

    /// Measures every size on `world`; rank 0 prints the lines.
    public func run(world: Communicator) throws {
        for size in bytes {
            let buffer = StableBuffer<Double>(count: max(size / MemoryLayout<Double>.stride, 1), repeating: 1)
            var times: [Double] = []
            for round in 0...rounds {  // round 0 warms the connections up and is not kept
                try world.barrier()
                let start = ContinuousClock.now
                try world.allReduce(inPlace: buffer.storage, op: .sum)
                let elapsed = (ContinuousClock.now - start).components
                let seconds = try world.allReduce(Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18, op: .max)
                if round > 0 { times.append(seconds) }
            }
            if world.isRoot, let middle = median(times) {
                print("\(Self.linePrefix) \(buffer.count * MemoryLayout<Double>.stride) \(middle)")
                fflush(nil)
            }
        }
    }

    /// The (bytes, seconds) pairs in an output of `run`.
    public static func read(_ output: String) -> [(bytes: Double, seconds: Double)] {
        output.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == linePrefix, let bytes = Double(parts[1]), let seconds = Double(parts[2]),
                  seconds.isFinite, seconds > 0 else { return nil }
            return (bytes, seconds)
        }
    }
}
