public import Hummingbird
public import Logging
public import Prometheus
public import ServiceLifecycle

extension Response {
    /// The metrics of `registry` in the Prometheus text format (0.0.4), for `GET /metrics`.
    public static func prometheusText(_ registry: PrometheusCollectorRegistry) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}

/// Serves `GET /metrics` from a registry, for `send --metrics-listen`: a service that runs until its group shuts
/// down.
public struct MetricsServer: Service {
    public var host: String
    /// 0 picks a free port; `onRunning` tells which.
    public var port: Int
    public var registry: PrometheusCollectorRegistry
    public var logger: Logger
    public var onRunning: @Sendable (_ port: Int) async -> Void

    public init(
        host: String, port: Int, registry: PrometheusCollectorRegistry, logger: Logger,
        onRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.registry = registry
        self.logger = logger
        self.onRunning = onRunning
    }

    public func run() async throws {
        let router = Router()
        router.get("/metrics") { [registry] _, _ in Response.prometheusText(registry) }
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "sparrow-metrics"),
            onServerRunning: { [port, onRunning] channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
        try await app.runService()
    }
}
