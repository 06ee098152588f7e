import ServiceLifecycle

/// Runs `operation` until it ends, or until a graceful shutdown (the service group's, on a first Ctrl-C or
/// SIGTERM) cancels it.
/// - Returns: what `operation` returned; nil when a graceful shutdown cancelled it.
/// - Throws: what `operation` threw, and `CancellationError` when the calling task itself is cancelled.
package func untilGracefulShutdown<Value: Sendable>(
    _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value? {
    do {
        return try await cancelWhenGracefulShutdown(operation)
    } catch is CancellationError where Task.isShuttingDownGracefully && !Task.isCancelled {
        return nil
    }
}
