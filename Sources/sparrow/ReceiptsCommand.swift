import ArgumentParser
import Foundation
import Logging
import Prometheus
import SparrowCommandSupport
import SparrowConfig
import SparrowReceipts
import SparrowStore

struct Receipts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the webhook that takes delivery receipts (DLR) and inbound replies (MO).",
        discussion: """
            POST /dlr/GATEWAY (or /dlr, matched by message id alone) takes receipts, POST /mo takes replies \
            (an unsubscribe keyword suppresses the sender), GET /health and GET /metrics report. Listens on the \
            configuration's receipts.listen, and refuses to start without a receipts.token or receipts.hmac_secret \
            unless told --insecure-loopback.
            """)

    @OptionGroup var config: ConfigOption

    @OptionGroup var webhook: WebhookOptions

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.bootstrap()
        let configuration = try config.load()
        try await withStore(configuration) { store in
            let server = try webhook.server(configuration, store: store)
            do {
                try await runUntilSignalled(notice: "receipts: stopping: answering the requests in flight") {
                    try await server.run { port in
                        // Written at once, unbuffered: scripts wait for this line to learn the port.
                        FileHandle.standardOutput.write(
                            Data("receipts listening on http://\(server.configuration.host):\(port)\n".utf8))
                    }
                }
            } catch {
                throw RuntimeFailure(message: "receipts: \(error)")
            }
        }
    }
}

extension ReceiptServer.Configuration {
    /// The webhook as a Sparrow configuration describes it: its `receipts` section (defaults without one), its
    /// default region and its gateways' receipt mappings.
    init(_ configuration: SparrowConfiguration) {
        let receipts = configuration.receipts ?? SparrowConfiguration.Receipts()
        self.init(
            host: receipts.host, port: receipts.port, token: receipts.token, hmacSecret: receipts.hmacSecret,
            maxBody: receipts.maxBody, unsubscribeKeywords: receipts.unsubscribeKeywords,
            defaultRegion: configuration.defaultRegion,
            gateways: Dictionary(uniqueKeysWithValues: configuration.gateways.map { ($0.name, $0.receipts) }),
            clientRate: receipts.clientRate, clientBurst: receipts.clientBurst)
        linkParameters = configuration.links?.utmPairs ?? []
    }
}

/// How the webhook may be started, for `receipts` and `send --receipts`.
struct WebhookOptions: ParsableArguments {
    @Flag(help: "Run the webhook without a token or secret: it then listens on 127.0.0.1 only.")
    var insecureLoopback = false

    /// The configured webhook, once it is known not to be an open door: credentials, or loopback only when allowed.
    func server(
        _ configuration: SparrowConfiguration, store: any CampaignStore,
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()
    ) throws -> ReceiptServer {
        var settings = ReceiptServer.Configuration(configuration)
        if settings.token == nil, settings.hmacSecret == nil {
            guard insecureLoopback else {
                throw UsageError(
                    message: "\(configuration.file): receipts has neither a token nor an hmac_secret: anyone could "
                        + "forge receipts and unsubscribes; set one, or pass --insecure-loopback to listen on 127.0.0.1 only"
                )
            }
            settings.host = "127.0.0.1"
        }
        return ReceiptServer(
            configuration: settings, store: store, registry: registry, logger: Logger(label: "sparrow"))
    }
}
