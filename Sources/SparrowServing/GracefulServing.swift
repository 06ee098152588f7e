public import Hummingbird
import ServiceLifecycle

extension ApplicationProtocol {
    /// Serves until the calling task is cancelled, then shuts down gracefully: no new connections, the requests
    /// in flight answered, idle connections closed. Cancelling a NIO server outright can trap on a connection
    /// accepted but not yet served ("Deinited NIOAsyncWriter without calling finish()", swift-nio#2637).
    public func runUntilCancelled() async throws {
        let group = ServiceGroup(configuration: .init(services: [self], logger: logger))
        let serving = Task { try await group.run() }  // not a child: the cancellation must not reach it
        try await withTaskCancellationHandler {
            try await serving.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }
}

/// Starts a server in a task of its own and returns once it listens: `serve` runs it and reports the bound port
/// (port 0 picks a free one). Cancel the task to shut the server down.
/// - Throws: the server's error when it ended before it listened.
public func startServing(
    _ serve: @escaping @Sendable (_ onRunning: @escaping @Sendable (Int) async -> Void) async throws -> Void
) async throws -> (port: Int, task: Task<Void, any Error>) {
    let (ports, sink) = AsyncStream.makeStream(of: Int.self)
    let task = Task {
        defer { sink.finish() }
        try await serve { sink.yield($0) }
    }
    guard let port = await ports.first(where: { _ in true }) else {
        try await task.value  // ended before it listened: its error
        throw CancellationError()
    }
    return (port, task)
}
