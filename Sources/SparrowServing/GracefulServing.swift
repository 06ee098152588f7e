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
