import Foundation
import SparrowCore
import SparrowTestSupport
import SparrowTransport

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
        let streams = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: streams) }
        let (input, output, error) = try files(stdin, in: streams)
        let ending = try ChildProcess(
            [executable] + arguments, in: directory?.path, stdin: .file(input.path), stdout: .file(output.path),
            stderr: .file(error.path)
        ).waitUntilExit()
        return Outcome(
            status: ending.status, stdout: try String(contentsOf: output, encoding: .utf8),
            stderr: try String(contentsOf: error, encoding: .utf8))
    }

    /// Files for a run's standard streams in `folder`: its input, holding `stdin`, and its output and error.
    private static func files(_ stdin: Data, in folder: URL) throws -> (input: URL, output: URL, error: URL) {
        let name = UUID().uuidString
        let files = (
            folder.appendingPathComponent("\(name).in"), folder.appendingPathComponent("\(name).out"),
            folder.appendingPathComponent("\(name).err")
        )
        try stdin.write(to: files.0)
        return files
    }

    /// Runs `sparrow` to its end as `run` does, without holding a thread while it runs: for tests whose own servers
    /// (a simulator) need the cooperative pool meanwhile.
    static func outcome(
        _ arguments: [String], stdin: Data = Data(), in directory: URL, program: String = executable
    ) async throws -> Outcome {
        let (input, output, error) = try files(stdin, in: directory)
        let ending = try await start(
            arguments, stdin: input, in: directory, stdout: output, stderr: error, program: program
        ).exited()
        return Outcome(
            status: ending.status, stdout: try String(contentsOf: output, encoding: .utf8),
            stderr: try String(contentsOf: error, encoding: .utf8))
    }

    /// A `sparrow` process started by `start`.
    typealias Running = ChildProcess

    /// Starts `sparrow` (or `program`) reading `stdin` from a file, its output discarded or written to files, and
    /// returns at once. `launcher` is a command that runs `sparrow` in turn (`chrt --idle 0`), or none.
    static func start(
        _ arguments: [String], stdin: URL, in directory: URL, stdout: URL? = nil, stderr: URL? = nil,
        launcher: [String] = [], program: String = executable
    ) throws -> Running {
        try ChildProcess(
            launcher + [program] + arguments, in: directory.path, stdin: .file(stdin.path),
            stdout: stdout.map { .file($0.path) } ?? .null, stderr: stderr.map { .file($0.path) } ?? .null)
    }

    /// A fresh folder with `sparrow.yaml` (its store inside the folder unless `store` names one, quiet hours off, one
    /// JSON gateway at `base` taking `maxInFlight` requests at once, with `gatewayOptions` if any, and `extra` keys)
    /// and `recipients.csv` (`rows` mobile numbers of mainland China).
    static func campaignFolder(
        gateway base: String, maxInFlight: Int, rows: Int, store: String = "./state.sqlite",
        gatewayOptions: String = "", extra: String = ""
    ) throws -> (folder: URL, recipients: URL) {
        let folder = try temporaryFolder()
        let options = gatewayOptions.isEmpty ? "" : ", \(gatewayOptions)"
        try """
        store: "\(store)"
        quiet_hours: off
        gateways:
          - { name: primary, url: "\(base)/v1/sms", format: json, max_in_flight: \(maxInFlight)\(options) }
        \(extra)
        """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let recipients = folder.appendingPathComponent("recipients.csv")
        try ("phone\n" + (0..<rows).map { "1390\(String(1_000_000 + $0))" }.joined(separator: "\n") + "\n")
            .write(to: recipients, atomically: true, encoding: .utf8)
        return (folder, recipients)
    }

    /// The metrics a process started with `--metrics-listen 127.0.0.1:0` serves, once `ready` holds, in the
    /// Prometheus text format; nil when the process ended before it said where (in `log`, its standard error).
    static func scrapeMetrics(
        of process: Running, log: URL, once ready: () -> Bool = { true }
    ) async throws -> String? {
        let url = try await said(/sparrow: metrics on (\S+)/, in: log, by: process)
        while !ready() { try await Task.sleep(for: .milliseconds(10)) }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        guard let url else { return nil }
        let result = await transport.perform(GatewayRequest(url: url, method: .get))
        guard case .answered(let answer) = result, answer.status == 200 else { return nil }
        return String(decoding: answer.body, as: UTF8.self)
    }

    /// What `pattern` captures in `file`, a process's output, once it is there: where a server says it listens. Nil
    /// when the process ended without saying it, or after 10 s.
    static func said(_ pattern: Regex<(Substring, Substring)>, in file: URL, by process: Running) async throws
        -> String?
    {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let exited = process.hasExited  // read first: what it printed before it ended is read below
            let printed = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
            if let match = printed.firstMatch(of: pattern) { return String(match.1) }
            if exited { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    /// A fresh temporary folder for one test's files.
    static func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
