import Foundation
import SparrowTestSupport
import Testing

/// `sparrow receipts` and `sparrow-gateway-sim` shut down gracefully on SIGTERM: they stop listening, answer the
/// requests in flight and exit 0. The simulator is not part of `sparrow`.
@Suite(.timeLimit(.minutes(1))) struct ServeCommandTests {
    @Test(arguments: [
        (SparrowProcess.executable, ["receipts", "-c", "sparrow.yaml", "--insecure-loopback"], "receipts"),
        (SparrowProcess.simulator, ["--listen", "127.0.0.1:0"], "gateway-sim"),
    ])
    func sigtermEndsTheServerGracefully(program: String, _ arguments: [String], name: String) async throws {
        let folder = try SparrowProcess.temporaryFolder()
        try
            "store: ./state.sqlite\ngateways: [{ name: a, url: \"http://127.0.0.1:9/\", format: json }]\nreceipts: { listen: \"127.0.0.1:0\" }\n"
            .write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let empty = folder.appendingPathComponent("empty")
        _ = FileManager.default.createFile(atPath: empty.path, contents: nil)
        let (stdout, stderr) = (folder.appendingPathComponent("out"), folder.appendingPathComponent("err"))
        let process = try SparrowProcess.start(
            arguments, stdin: empty, in: folder, stdout: stdout, stderr: stderr, program: program)
        var listening = false
        for _ in 0..<200 where !listening {
            listening =
                (try? String(contentsOf: stdout, encoding: .utf8))?.contains("listening on http://127.0.0.1:") == true
            if !listening { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(listening)
        kill(process.pid, SIGTERM)
        let ending = await process.exited()
        #expect(ending.reason == .exit && ending.status == 0)
        #expect(try String(contentsOf: stderr, encoding: .utf8).contains("\(name): stopping"))
    }

    @Test func theGatewaySimulatorIsNotPartOfSparrow() throws {
        let help = try SparrowProcess.run(["--help"])
        #expect(help.status == 0)
        #expect(!help.stdout.contains("gateway-sim"))
        #expect(try SparrowProcess.run(["gateway-sim", "--listen", "127.0.0.1:0"]).status == 2)
    }
}
