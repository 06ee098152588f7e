import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
public import ServiceLifecycle
public import SparrowCore

/// The HTTP side of `sparrow flows`: order events from the store's platforms.
///
/// | route | what it takes |
/// |---|---|
/// | `POST /shopify` | a Shopify webhook (`X-Shopify-Topic`, `X-Shopify-Webhook-Id`), admitted by its `X-Shopify-Hmac-Sha256` |
/// | `POST /events` | one event record as `sparrow flows --stdin` reads them (Taobao's messages as they come), admitted by the bearer token or signature the receipts webhook takes |
/// | `GET /health` | `{"status":"ok"}` |
///
/// A request is authenticated on its raw body before anything is parsed or stored: a bad or missing signature is
/// answered 401 and nothing is kept. A taken event is answered 200 with `{"status":"ok","new":true}` (`false` for an
/// event taken before), once its transaction has committed; an event of a topic no flow reads (or a logistics step
/// none waits for) 200 with `{"status":"ignored"}`, so that the platform does not send it again; an unreadable one
/// 400; a store failure 503, for the platform to send it again.
public struct FlowEventServer: Service {
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port; `run` tells which.
        public var port: Int
        public var shopifySecret: Secret?
        public var token: Secret?
        public var hmacSecret: Secret?
        public var maxBody: Int
        /// Seconds east of UTC of times written without an offset (Taobao's).
        public var zoneOffset: Int

        public init(
            host: String = "127.0.0.1", port: Int = 8090, shopifySecret: Secret? = nil, token: Secret? = nil,
            hmacSecret: Secret? = nil, maxBody: Int = 1 << 20, zoneOffset: Int = 8 * 3600
        ) {
            self.host = host
            self.port = port
            self.shopifySecret = shopifySecret
            self.token = token
            self.hmacSecret = hmacSecret
            self.maxBody = maxBody
            self.zoneOffset = zoneOffset
        }
    }

    public let configuration: Configuration
    /// Takes an event; returns whether it was new.
    private let ingest: @Sendable (OrderEvent) async throws -> Bool
    private let authenticator: WebhookAuthenticator
    private let now: @Sendable () -> Timestamp
    private let logger: Logger

    public init(
        configuration: Configuration, now: (@Sendable () -> Timestamp)? = nil,
        logger: Logger = Logger(label: "sparrow"), ingest: @escaping @Sendable (OrderEvent) async throws -> Bool
    ) {
        self.configuration = configuration
        self.ingest = ingest
        self.logger = logger
        self.now = now ?? { Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)) }
        authenticator = WebhookAuthenticator(
            token: configuration.token?.value, hmacSecret: configuration.hmacSecret?.value)
    }

    public func run() async throws {
        try await run(onRunning: { _ in })
    }

    /// Serves until its service group shuts down gracefully; `onRunning` gets the bound port.
    public func run(onRunning: @escaping @Sendable (_ port: Int) async -> Void) async throws {
        let router = Router(context: BasicRequestContext.self)
        router.get("/health") { _, _ in Response.json(.ok) { $0.field("status", "ok") } }
        router.post("/shopify") { request, _ in await shopify(request) }
        router.post("/events") { request, _ in await record(request) }
        let app = Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "sparrow-flows"),
            onServerRunning: { [port = configuration.port] channel in
                await onRunning(channel.localAddress?.port ?? port)
            }, logger: logger)
        try await app.run()
    }

    private func shopify(_ request: Request) async -> Response {
        do throws(Rejection) {
            let body = try await request.collectedBody(upTo: configuration.maxBody)
            guard let secret = configuration.shopifySecret else {
                throw Rejection(
                    status: .notFound, reason: "not-configured", message: "no shopify_secret is configured")
            }
            guard
                ShopifyWebhookSignature.isValid(
                    header: request.headers[.shopifyHmac], body: body, secret: secret.value)
            else {
                throw Rejection(status: .unauthorized, reason: "bad-signature", message: "bad signature")
            }
            guard let topic = request.headers[.shopifyTopic] else {
                throw Rejection(status: .badRequest, reason: "no-topic", message: "no X-Shopify-Topic")
            }
            let payload: JSONValue
            do {
                payload = try JSONValue.parse(body)
            } catch {
                throw Rejection(status: .badRequest, reason: "not-json", message: "the body is not JSON: \(error)")
            }
            guard OrderEvent.shopifyTopics.contains(topic) else {
                return Response.json(.ok) { $0.field("status", "ignored") }
            }
            let at = request.headers[.shopifyTriggeredAt].flatMap { Timestamp(rfc3339: $0) }
            return try await take { () throws(OrderEventError) in
                try OrderEvent.decode(
                    topic: topic, id: request.headers[.shopifyWebhookID], at: at, payload: payload,
                    zoneOffset: configuration.zoneOffset)
            }
        } catch {
            return refuse(error)
        }
    }

    private func record(_ request: Request) async -> Response {
        do throws(Rejection) {
            let body = try await request.collectedBody(upTo: configuration.maxBody)
            try authenticator.check(request, body: body, now: now())
            return try await take { () throws(OrderEventError) in
                try OrderEvent.decode(record: body, zoneOffset: configuration.zoneOffset)
            }
        } catch {
            return refuse(error)
        }
    }

    /// Reads an event with `decode` and hands it to the flows.
    private func take(_ decode: () throws(OrderEventError) -> OrderEvent?) async throws(Rejection) -> Response {
        let event: OrderEvent?
        do {
            event = try decode()
        } catch {
            throw Rejection(status: .badRequest, reason: "unreadable-event", message: error.message)
        }
        guard let event else { return Response.json(.ok) { $0.field("status", "ignored") } }
        do {
            let new = try await ingest(event)
            return Response.json(.ok) { json in
                json.field("status", "ok")
                json.field("new", new)
            }
        } catch {
            logger.error("an order event could not be stored: answered 503", metadata: ["error": "\(error)"])
            throw .storeUnavailable
        }
    }

    private func refuse(_ rejection: Rejection) -> Response {
        if rejection.status == .unauthorized {
            logger.warning("an order event was refused", metadata: ["reason": "\(rejection.reason)"])
        }
        return Response.json(rejection.status) { $0.field("error", rejection.message) }
    }

}

extension HTTPField.Name {
    static let shopifyHmac = Self(ShopifyWebhookSignature.header)!
    static let shopifyTopic = Self("X-Shopify-Topic")!
    static let shopifyWebhookID = Self("X-Shopify-Webhook-Id")!
    static let shopifyTriggeredAt = Self("X-Shopify-Triggered-At")!
}
