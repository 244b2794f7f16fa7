import Foundation

/// The HEA data set beside the repository (`../shared/data`), or nil when this clone has none;
/// tests that need it say so and skip.
public func sharedHEAFile() -> String? {
    let path = repositoryRoot().deletingLastPathComponent().appendingPathComponent("shared/data/hea_co2rr_sites.csv").path
    return FileManager.default.fileExists(atPath: path) ? path : nil
}

/// Conditions for Swift Testing's `.enabled(if:)`, so a test that cannot run here is reported
/// as skipped (with the reason), never as passed.
public enum Available {
    public static let numpy = pythonHas("numpy")
    public static let ase = pythonHas("ase")
    public static let safetensors = pythonHas("safetensors", "numpy")
    public static let sharedData = sharedHEAFile() != nil
    /// Namespace nodes (`Launch/cluster`): root, iproute2 and util-linux's unshare.
    public static let clusterNodes = getuid() == 0 && ["ip", "unshare", "tc", "flock"].allSatisfy { tool in
        (try? runProcess("bash", ["-c", "command -v \(tool)"], timeout: 10).status) == 0
    }
    /// The Slurm daemons and munge, for a real one-node Slurm.
    public static let slurm = ["slurmctld", "slurmd", "munged", "sbatch"].allSatisfy { tool in
        (try? runProcess("bash", ["-c", "command -v \(tool)"], timeout: 10).status) == 0
    }
}

/// True when `python3 -c "import <modules>"` works here.
public func pythonHas(_ modules: String...) -> Bool {
    guard let run = try? runProcess("python3", ["-c", "import " + modules.joined(separator: ", ")], timeout: 60) else { return false }
    return run.status == 0
}

/// A fresh temporary folder.
public func temporaryFolder(_ name: String = "sitelens-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Relative-and-absolute closeness, named as swift-numerics names it.
public func isApproximatelyEqual(_ a: Double, _ b: Double, relativeTolerance: Double = 1e-6, absoluteTolerance: Double = 0) -> Bool {
    abs(a - b) <= max(absoluteTolerance, relativeTolerance * max(abs(a), abs(b)))
}

/// The largest relative difference between two runs' parameters, tensor by tensor:
/// |a − b| / max(|a|, |b|, 0.01·m), m the tensor's largest magnitude. Values a hundred times
/// smaller than their tensor's scale are compared at that floor, since a rounding step of the
/// large values (one ulp of m) would otherwise read as a large relative change of the tiny ones.
public func largestRelativeDifference(_ a: [[Float]], _ b: [[Float]]) -> Double {
    var largest = 0.0
    for (x, y) in zip(a, b) {
        let scale = Double(x.map { abs($0) }.max() ?? 0)
        for (p, q) in zip(x, y) {
            let (u, v) = (Double(p), Double(q))
            let floor: Double = max(abs(u), abs(v), 1e-2 * scale, 1e-30)
            largest = max(largest, abs(u - v) / floor)
        }
    }
    return largest
}
