public import SparrowGatewaySim

/// Runs `simulator` on a free loopback port for the duration of `body`, which gets its base URL
/// (`http://127.0.0.1:PORT`). The server stops when `body` returns or throws.
public func withSimulator<Result: Sendable>(
    _ simulator: GatewaySimulator, isolation: isolated (any Actor)? = #isolation,
    _ body: (_ baseURL: String) async throws -> Result
) async throws -> Result {
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let server = Task { try await simulator.run(host: "127.0.0.1", port: 0) { portSink.yield($0) } }
    defer { server.cancel() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw CancellationError() }
    return try await body("http://127.0.0.1:\(port)")
}
