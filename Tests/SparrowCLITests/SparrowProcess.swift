import Foundation
import Synchronization
import SparrowCore

/// Runs the built `sparrow` executable as a user would.
struct SparrowProcess {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// The `sparrow` binary built beside this test bundle (`SPARROW_BIN` overrides).
    static let executable: String = ProcessInfo.processInfo.environment["SPARROW_BIN"] ?? built("sparrow")

    /// The gateway simulator's binary, built beside this test bundle.
    static let simulator = built("sparrow-gateway-sim")

    private static func built(_ name: String) -> String {
        let testBinary =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: testBinary).deletingLastPathComponent().appendingPathComponent(name).path
    }

    /// Runs `sparrow` to its end, holding the calling thread: never inside `withSimulator`, whose simulator answers
    /// on the cooperative pool that a few blocked tests exhaust (use `outcome`).
    static func run(_ arguments: [String], stdin: Data = Data(), in directory: URL? = nil) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let input = Pipe(), output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // Write and read concurrently, so that neither side's pipe buffer fills and blocks the other.
        let writer = Thread {
            input.fileHandleForWriting.write(stdin)
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let errorData = ErrorCollector(error.fileHandleForReading)
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errorData.wait(), as: UTF8.self))
    }

    /// Runs `sparrow` to its end as `run` does, without holding a thread while it runs: for tests whose own servers
    /// (a simulator) need the cooperative pool meanwhile.
    static func outcome(
        _ arguments: [String], stdin: Data = Data(), in directory: URL, program: String = executable
    ) async throws -> Outcome {
        let name = UUID().uuidString
        let (input, output, error) = (
            directory.appendingPathComponent("\(name).in"), directory.appendingPathComponent("\(name).out"),
            directory.appendingPathComponent("\(name).err")
        )
        try stdin.write(to: input)
        let ending = try await start(
            arguments, stdin: input, in: directory, stdout: output, stderr: error, program: program
        ).exited()
        return Outcome(
            status: ending.status, stdout: try String(contentsOf: output, encoding: .utf8),
            stderr: try String(contentsOf: error, encoding: .utf8))
    }

    /// A `sparrow` process started by `start`.
    final class Running: Sendable {
        typealias Ending = (reason: Process.TerminationReason, status: Int32)
        private let started = Atomic<Int32>(0)
        private let state = Lock<(ending: Ending?, waiters: [CheckedContinuation<Ending, Never>])>((nil, []))

        var pid: Int32 { started.load(ordering: .acquiring) }

        var hasExited: Bool { state.withLock { $0.ending != nil } }

        /// Waits for the process to end without holding a thread: the tests' own servers need the cooperative
        /// pool meanwhile.
        func exited() async -> Ending {
            await withCheckedContinuation { continuation in
                let ending = state.withLock { state in
                    if state.ending == nil { state.waiters.append(continuation) }
                    return state.ending
                }
                if let ending { continuation.resume(returning: ending) }
            }
        }

        fileprivate func started(pid: Int32) {
            started.store(pid, ordering: .releasing)
        }

        fileprivate func end(_ ending: Ending) {
            for waiter in state.withLock({ state in
                state.ending = ending
                defer { state.waiters = [] }
                return state.waiters
            }) {
                waiter.resume(returning: ending)
            }
        }
    }

    /// Starts `sparrow` (or `program`) reading `stdin` from a file, its output discarded or written to files, and
    /// returns at once. `launcher` is a command that runs `sparrow` in turn (`chrt --idle 0`), or none.
    static func start(
        _ arguments: [String], stdin: URL, in directory: URL, stdout: URL? = nil, stderr: URL? = nil,
        launcher: [String] = [], program: String = executable
    ) throws -> Running {
        let process = Process()
        let command = launcher + [program] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.currentDirectoryURL = directory
        process.standardInput = try FileHandle(forReadingFrom: stdin)
        process.standardOutput = try stdout.map(emptyFile) ?? FileHandle.nullDevice
        process.standardError = try stderr.map(emptyFile) ?? FileHandle.nullDevice
        let running = Running()
        process.terminationHandler = { process in
            running.end((process.terminationReason, process.terminationStatus))
        }
        try process.run()
        running.started(pid: process.processIdentifier)
        return running
    }

    private static func emptyFile(_ url: URL) throws -> FileHandle {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        return try FileHandle(forWritingTo: url)
    }

    /// A fresh folder with `sparrow.yaml` (its store inside the folder, quiet hours off, one JSON gateway at `base`
    /// taking `maxInFlight` requests at once) and `recipients.csv` (`rows` mobile numbers of mainland China).
    static func campaignFolder(
        gateway base: String, maxInFlight: Int, rows: Int
    ) throws -> (folder: URL, recipients: URL) {
        let folder = try temporaryFolder()
        try """
        store: ./state.sqlite
        quiet_hours: off
        gateways:
          - { name: primary, url: "\(base)/v1/sms", format: json, max_in_flight: \(maxInFlight) }
        """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let recipients = folder.appendingPathComponent("recipients.csv")
        try ("phone\n" + (0..<rows).map { "1390\(String(1_000_000 + $0))" }.joined(separator: "\n") + "\n")
            .write(to: recipients, atomically: true, encoding: .utf8)
        return (folder, recipients)
    }

    /// A fresh temporary folder for one test's files.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}

/// Reads a pipe to its end on a thread of its own.
final class ErrorCollector: @unchecked Sendable {
    // Safe: `data` is written once by the reading thread before `done` is signalled, and read only after `wait()`.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }.start()
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
