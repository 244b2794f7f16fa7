import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `sitelens-fuzz`: seeded hostile inputs (extxyz, site tables, model files, option values) run
/// through the readers, rasterisers, models and option checks, each case classified. A tool for
/// the tests and CI, not a user's command: `swift run sitelens-fuzz`.
///
/// The supervisor starts its own executable (`/proc/self/exe`) as a worker child (`--worker`)
/// under a virtual-memory limit (`ulimit -v`, i.e. RLIMIT_AS) and reads one line per case from it.
/// A case that kills the worker is a crash, one that outlasts `--timeout` a hang (the worker is
/// killed); either way a new worker carries on with the next case. The worker measures each
/// case's peak resident memory (VmHWM, reset per case through /proc/self/clear_refs): above
/// `--memory-mb` is over budget.
@main
struct SiteLensFuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sitelens-fuzz",
        abstract: "Run seeded hostile inputs against SiteLens and count clean rejections, crashes, hangs and memory over budget.")

    @Option(help: "Number of cases.")
    var cases = 5000

    @Option(help: "Seed of the mutations (case k is the same for the same seed on any machine).")
    var seed: UInt64 = 1

    @Option(help: "Seconds a case may run before it counts as a hang.")
    var timeout = 10.0

    @Option(help: "Peak resident memory a case may use, MiB (the worker's address space is limited to this + 1024 MiB).")
    var memoryMb = 1024

    @Option(help: "Folder for the case files (default: a new temporary folder, removed afterwards).")
    var work: String?

    @Flag(help: "Print every case that is not a clean rejection or a valid acceptance.")
    var verbose = false

    @Option(help: .hidden) var first = 0
    /// Makes the worker trap at this case: how the harness's own test shows a crash is caught.
    @Option(help: .hidden) var trapAt: Int?
    @Flag(help: .hidden) var worker = false

    func validate() throws {
        guard (1...10_000_000).contains(cases) else { throw ValidationError("--cases must be in 1...10000000, got \(cases)") }
        guard timeout.isFinite, timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] s, got \(timeout)") }
        guard (16...65536).contains(memoryMb) else { throw ValidationError("--memory-mb must be in 16...65536, got \(memoryMb)") }
    }

    func run() throws {
        let folder = try work.map { URL(fileURLWithPath: $0) } ?? temporaryWorkFolder()
        if worker {
            try runWorker(in: folder)
            return
        }
        defer { if work == nil { try? FileManager.default.removeItem(at: folder) } }
        let start = Date()
        var tally = FuzzTally()
        var next = 0
        while next < cases {
            next = try superviseWorker(from: next, in: folder, tally: &tally)
        }
        print(tally.summary(cases: cases, seconds: Date().timeIntervalSince(start)))
        if tally.failures > 0 { throw ExitCode(1) }
    }

    func temporaryWorkFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sitelens-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        return folder
    }

    /// This process's own executable, wherever it was started from (through PATH, a relative
    /// path or `swift run`). Resolved here: `/proc/self/exe` in the shell that applies the limit
    /// would name the shell.
    static func executablePath() throws -> String {
        try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
    }

    // MARK: Worker

    /// Runs cases `first`..<`cases` in this process, one `begin`/`end` line pair per case.
    func runWorker(in folder: URL) throws {
        for index in first..<cases {
            let fuzzCase = FuzzCase(seed: seed, index: index, folder: folder)
            print("begin \(index) \(fuzzCase.kind.rawValue)")
            fflush(nil)
            resetPeakMemory()
            let started = Date()
            if index == trapAt { fatalError("trap asked for at case \(index)") }
            let outcome = fuzzCase.run()
            let peak = peakMemoryKiB()
            let milliseconds = Int(Date().timeIntervalSince(started) * 1000)
            var verdict = outcome.verdict
            if peak > memoryMb * 1024 { verdict = .overBudget }
            let message = outcome.message.replacingOccurrences(of: "\n", with: " ").prefix(300)
            print("end \(index) \(verdict.rawValue) \(peak) \(fuzzCase.kind.rawValue) \(milliseconds)ms \(message)")
            fflush(nil)
            fuzzCase.removeFiles()
        }
    }

    // MARK: Supervisor

    /// Starts a worker at case `from` and records its cases until it finishes, dies or hangs;
    /// returns the next case to run.
    func superviseWorker(from: Int, in folder: URL, tally: inout FuzzTally) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        let limitKiB = (memoryMb + 1024) * 1024
        process.arguments = ["-c", "ulimit -v \(limitKiB) && exec \"$0\" \"$@\"", try Self.executablePath(), "--worker",
                             "--seed", "\(seed)", "--cases", "\(cases)", "--first", "\(from)", "--memory-mb", "\(memoryMb)",
                             "--work", folder.path] + (trapAt.map { ["--trap-at", "\($0)"] } ?? [])
        var environment = ProcessInfo.processInfo.environment
        environment["OPENBLAS_NUM_THREADS"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        let errorFile = folder.appendingPathComponent("worker-stderr")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        var reader = LineReader(fd: output.fileHandleForReading.fileDescriptor)
        var current: (index: Int, kind: String)? = nil
        var mutation = ""
        // The case after the last one the worker finished: where a failure between cases lands.
        var next = from
        // A case the worker did not finish, counted under its kind and labelled with what it fed in.
        func unfinished(_ verdict: FuzzVerdict, detail: String) -> Int {
            let index = current?.index ?? next
            if let kind = current?.kind { tally.kinds[kind, default: 0] += 1 }
            let label = "[\(current?.kind ?? "between cases")\(mutation.isEmpty ? "" : " {\(mutation)}")] "
            tally.add(verdict, index: index, detail: label + detail, verbose: true)
            return index + 1
        }
        while true {
            let line = reader.next(timeout: current == nil ? timeout + 30 : timeout)
            switch line {
            case .line(let text):
                if let begun = FuzzTally.parseBegin(text) { (current, mutation) = (begun, ""); continue }
                if let told = FuzzTally.parseMutation(text) { mutation = told; continue }
                if tally.record(text, verbose: verbose), let finished = current {
                    next = finished.index + 1
                    current = nil
                }
            case .timedOut:
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return unfinished(.hang, detail: "no answer within \(timeout) s")
            case .closed:
                process.waitUntilExit()
                if current == nil && next >= cases && process.terminationStatus == 0 { return cases }
                let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
                let verdict: FuzzVerdict = stderr.contains("allocate") ? .overBudget : .crash
                // The runtime's own words first (where it trapped), then the end of the backtrace.
                let trap = stderr.split(separator: "\n").first { $0.contains("Fatal error") }.map { "\($0) … " } ?? ""
                return unfinished(verdict, detail: "worker ended with status \(process.terminationStatus) "
                                  + "(\(process.terminationReason == .uncaughtSignal ? "signal" : "exit")): \(trap)\(stderr.suffix(400))")
            }
        }
    }
}
