package import Hummingbird
package import Prometheus

extension Response {
    /// The metrics of `registry` in the Prometheus text format (0.0.4), for `GET /metrics`.
    package static func prometheusText(_ registry: PrometheusCollectorRegistry) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}
