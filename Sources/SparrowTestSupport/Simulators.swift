public import SparrowGatewaySim
public import SparrowReceipts
import SparrowServing

/// Runs `simulator` on a free loopback port for the duration of `body`, which gets its base URL
/// (`http://127.0.0.1:PORT`). The server stops when `body` returns or throws.
public func withSimulator<Value: Sendable>(
    _ simulator: GatewaySimulator, isolation: isolated (any Actor)? = #isolation,
    _ body: (_ baseURL: String) async throws -> Value
) async throws -> Value {
    try await withServer(run: { try await simulator.run(host: "127.0.0.1", port: 0, onRunning: $0) }, body)
}

/// Runs the receipts webhook `server` (configured with port 0) for the duration of `body`, which gets its base URL.
public func withReceiptServer<Value: Sendable>(
    _ server: ReceiptServer, isolation: isolated (any Actor)? = #isolation,
    _ body: (_ baseURL: String) async throws -> Value
) async throws -> Value {
    try await withServer(run: { try await server.run(onRunning: $0) }, body)
}

/// Runs a server until `body` ends; `run` serves and reports the bound port.
private func withServer<Value: Sendable>(
    run: @escaping @Sendable (_ onRunning: @escaping @Sendable (Int) async -> Void) async throws -> Void,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (_ baseURL: String) async throws -> Value
) async throws -> Value {
    let (port, server) = try await startServing(run)
    let result: Result<Value, any Error>
    do {
        result = .success(try await body("http://127.0.0.1:\(port)"))
    } catch {
        result = .failure(error)
    }
    server.cancel()
    _ = await server.result  // shut down, and its receipt sender stopped, before the next server goes
    return try result.get()
}

/// A simulator serving on a free loopback port until `stop()`, for fixtures that outlive one scope (benchmarks).
public struct RunningSimulator: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let baseURL: String
    private let server: Task<Void, any Error>

    public init(_ simulator: GatewaySimulator) async throws {
        let (port, server) = try await startServing {
            try await simulator.run(host: "127.0.0.1", port: 0, onRunning: $0)
        }
        baseURL = "http://127.0.0.1:\(port)"
        self.server = server
    }

    /// Shuts the server down and returns once it has.
    public func stop() async {
        server.cancel()
        _ = await server.result
    }
}
