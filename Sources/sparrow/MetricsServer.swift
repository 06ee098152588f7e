import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import SparrowReceipts

/// Serves `GET /metrics` from a registry, for `send --metrics-listen`, until its service group shuts down.
struct MetricsServer: Service {
    var host: String
    /// 0 picks a free port; `onRunning` tells which.
    var port: Int
    var registry: PrometheusCollectorRegistry
    var logger: Logger
    var onRunning: @Sendable (_ port: Int) async -> Void

    func run() async throws {
        let router = Router()
        router.get("/metrics") { [registry] _, _ in Response.prometheusText(registry) }
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "sparrow-metrics"),
            onServerRunning: { [port, onRunning] channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
        try await app.run()
    }
}
