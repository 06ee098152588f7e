import Logging
public import SparrowGatewaySim
public import SparrowReceipts
import ServiceLifecycle

/// Runs `simulator` on a free loopback port for the duration of `body`, which gets its base URL
/// (`http://127.0.0.1:PORT`). The server shuts down gracefully when `body` returns or throws.
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

/// Runs the flows' event server `server` (configured with port 0) for the duration of `body`, which gets its base URL.
public func withFlowEventServer<Value: Sendable>(
    _ server: FlowEventServer, isolation: isolated (any Actor)? = #isolation,
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
    let server = try await RunningServer(run)
    let result: Result<Value, any Error>
    do {
        result = .success(try await body("http://127.0.0.1:\(server.port)"))
    } catch {
        result = .failure(error)
    }
    await server.stop()  // shut down, and its receipt sender stopped, before the next server goes
    return try result.get()
}

/// A simulator serving on a free loopback port until `stop()`, for fixtures that outlive one scope (benchmarks).
public struct RunningSimulator: Sendable {
    /// `http://127.0.0.1:PORT`.
    public let baseURL: String
    private let server: RunningServer

    public init(_ simulator: GatewaySimulator) async throws {
        server = try await RunningServer { try await simulator.run(host: "127.0.0.1", port: 0, onRunning: $0) }
        baseURL = "http://127.0.0.1:\(server.port)"
    }

    /// Shuts the server down gracefully and returns once it has.
    public func stop() async {
        await server.stop()
    }
}

/// A server running as the one service of its own group, the way the commands run theirs: it is stopped by a
/// graceful shutdown, never by cancellation.
private struct RunningServer: Sendable {
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts `run`, which serves and reports the bound port, and returns once it listens.
    /// - Throws: the server's error when it ended before it listened.
    init(_ run: @escaping @Sendable (_ onRunning: @escaping @Sendable (Int) async -> Void) async throws -> Void)
        async throws
    {
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(
            configuration: .init(
                services: [Serving { try await run { sink.yield($0) } }],
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        let task = Task {
            defer { sink.finish() }
            try await group.run()
        }
        guard let port = await ports.first(where: { _ in true }) else {
            try await task.value  // ended before it listened: its error
            throw CancellationError()
        }
        self.port = port
        self.group = group
        self.task = task
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    private struct Serving: Service {
        let body: @Sendable () async throws -> Void
        func run() async throws { try await body() }
    }
}
