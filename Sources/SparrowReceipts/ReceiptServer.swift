import Foundation
import HTTPTypes
import Hummingbird
public import Logging
public import Prometheus
public import ServiceLifecycle
import HummingbirdCore
import NIOCore
public import SparrowCore
public import SparrowStore
import Synchronization

/// `sparrow receipts`: the webhook that takes delivery receipts (DLR) and inbound replies (MO).
///
/// | route | what it does |
/// |---|---|
/// | `POST /dlr/{gateway}` | receipts, read with the gateway's `receipts` mapping, matched by gateway and message id |
/// | `POST /dlr` | receipts, read with the standard mapping and matched by the gateway's message id alone |
/// | `POST /mo` | a reply; an unsubscribe keyword (`TD`, `退订`, `STOP`, …) suppresses the sender |
/// | `GET /s/{code}` | a tracked link: records the click against its message and redirects (302) to the campaign's target |
/// | `GET /health` | `{"status":"ok"}` |
/// | `GET /metrics` | counters in the Prometheus text format |
///
/// Each caller, by address, may make `clientRate` POSTs a second in bursts of up to `clientBurst` (beyond, 429 with
/// `Retry-After`, before the body is read). Bodies are JSON objects or forms (see `WebhookFields`), at most `maxBody`
/// bytes (413 otherwise, decided from `Content-Length` before anything is read). With a token or a secret configured,
/// every POST must carry `Authorization: Bearer …` or an `X-Sparrow-Timestamp` and `X-Sparrow-Signature` (see
/// `WebhookAuthenticator`), else 401. A body that says nothing usable is answered 400 with `{"error":"…"}`. Refused
/// requests never reach the store.
///
/// A receipt request carries one receipt, or a list: a JSON array, or the array at the mapping's `listPath`. A list's
/// readable items are written and its others skipped, and the answer counts both:
/// `{"status":"ok","receipts":2,"skipped":[{"index":1,"error":"…"}]}`; a list none of whose items is readable is
/// answered 400, as a single receipt would be. A gateway whose mapping has an `answer` gets that body in its 200s
/// instead (as JSON when it starts with `{` or `[`, as plain text otherwise).
///
/// Final receipts (delivered, undelivered, expired) are written in batches (see `ReceiptBatcher`) and
/// answered 200 only once their batch is committed (a list's receipts all in one); states only move forward, so
/// duplicated and out-of-order receipts are harmless. Intermediate receipts (`sent`, `ENROUTE`, …) are counted and
/// answered 200 but not written: they cannot move a message the gateway has already accepted.
public struct ReceiptServer: Service {
    /// Where the webhook listens and what it admits.
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port; `run` tells which.
        public var port: Int
        /// The bearer token callers may send.
        public var token: Secret?
        /// The secret callers may sign with.
        public var hmacSecret: Secret?
        /// Larger bodies are refused with 413.
        public var maxBody: Int
        public var unsubscribeKeywords: [String]
        /// The region of reply senders written without a country code.
        public var defaultRegion: String?
        /// Receipt mappings by gateway name, for `POST /dlr/{gateway}`.
        public var gateways: [String: ReceiptMapping]
        /// Receipts written in one transaction at most.
        public var batchSize: Int
        /// How long a batch collects receipts after its first one at most: it is written sooner when it fills up,
        /// or when no other receipt request is being read.
        public var batchWindow: Duration
        /// Query parameters a tracked link's redirect adds to its campaign's target (`utm_source`, …), in order;
        /// `utm_campaign` is the campaign unless named here.
        public var linkParameters: [(String, String)] = []
        /// POSTs a second each caller (by address) may make, and how many at once.
        public var clientRate: Double
        public var clientBurst: Int

        public init(
            host: String = "127.0.0.1", port: Int = 8089, token: Secret? = nil, hmacSecret: Secret? = nil,
            maxBody: Int = 65_536, unsubscribeKeywords: [String] = UnsubscribeKeywords.defaults,
            defaultRegion: String? = "CN", gateways: [String: ReceiptMapping] = [:], batchSize: Int = 256,
            batchWindow: Duration = .milliseconds(20), clientRate: Double = 10_000, clientBurst: Int = 20_000
        ) {
            self.clientRate = clientRate
            self.clientBurst = clientBurst
            self.host = host
            self.port = port
            self.token = token
            self.hmacSecret = hmacSecret
            self.maxBody = maxBody
            self.unsubscribeKeywords = unsubscribeKeywords
            self.defaultRegion = defaultRegion
            self.gateways = gateways
            self.batchSize = batchSize
            self.batchWindow = batchWindow
        }
    }

    public let configuration: Configuration
    private let store: any CampaignStore
    private let now: @Sendable () -> Timestamp
    private let authenticator: WebhookAuthenticator
    private let keywords: UnsubscribeKeywords
    /// What `GET /metrics` shows: the webhook's metrics, and those of anything else made from it.
    public let registry: PrometheusCollectorRegistry
    private let metrics: ReceiptMetrics
    private let limiter: ClientLimiter
    /// The store's link coder, once a click needed it.
    private let links = LinkCoderCache()
    /// Sleeps on the server's monotonic clock: the batches' windows.
    private let sleep: @Sendable (Duration) async throws -> Void
    private let logger: Logger

    /// - Parameters:
    ///   - store: where receipts and unsubscribes go.
    ///   - now: the wall clock, for signed requests' timestamps and receipts' times; the system's when nil.
    ///   - clock: the monotonic clock the callers' rate limits and the batches' windows are read against.
    ///   - registry: where the webhook's metrics are made, and what `GET /metrics` shows; one shared with a
    ///     campaign shows its metrics too.
    ///   - logger: where the server's start and stop and the store's failures go; no phone number, message or
    ///     secret is logged.
    public init(
        configuration: Configuration, store: some CampaignStore, now: (@Sendable () -> Timestamp)? = nil,
        clock: some Clock<Duration> = ContinuousClock(),
        registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger = Logger(label: "sparrow")
    ) {
        self.registry = registry
        metrics = ReceiptMetrics(factory: PrometheusMetricsFactory(registry: registry))
        self.configuration = configuration
        self.logger = logger
        self.store = store
        self.now = now ?? { Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)) }
        authenticator = WebhookAuthenticator(
            token: configuration.token?.value, hmacSecret: configuration.hmacSecret?.value)
        keywords = UnsubscribeKeywords(configuration.unsubscribeKeywords)
        limiter = ClientLimiter(
            ClientRateLimits(rate: configuration.clientRate, burst: configuration.clientBurst), clock: clock)
        sleep = { try await clock.sleep(for: $0) }
    }

    /// Serves until its service group shuts down gracefully: no new connections, the requests in flight answered,
    /// and the receipts already handed to a batch written.
    /// - Throws: when the address cannot be bound.
    public func run() async throws {
        try await run(onRunning: { _ in })
    }

    /// Serves as `run()` does; `onRunning` gets the bound port (useful with port 0).
    public func run(onRunning: @escaping @Sendable (_ port: Int) async -> Void) async throws {
        let batcher = ReceiptBatcher(
            store: store, maxBatch: configuration.batchSize, window: configuration.batchWindow, metrics: metrics,
            sleep: sleep)
        let app = Application(
            router: router(batcher: batcher),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "sparrow-receipts"),
            onServerRunning: { [port = configuration.port] channel in
                await onRunning(channel.localAddress?.port ?? port)
            }, logger: logger)
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await batcher.run() }
            let served: Result<Void, any Error>
            do {
                served = .success(try await app.run())
            } catch {
                served = .failure(error)
            }
            await batcher.stop()  // the receipts it holds are written before this returns
            try served.get()
        }
    }

    func router(batcher: ReceiptBatcher) -> Router<ReceiptRequestContext> {
        let router = Router(context: ReceiptRequestContext.self)
        router.get("/health") { _, _ in
            Response.json(.ok) { $0.field("status", "ok") }
        }
        router.get("/metrics") { _, _ in
            metrics.record(await batcher.backlog)
            return Response.prometheusText(registry)
        }
        router.post("/dlr") { request, context in
            await receipt(request, from: context, gateway: nil, batcher: batcher)
        }
        router.post("/dlr/{gateway}") { request, context in
            await receipt(request, from: context, gateway: context.parameters.get("gateway"), batcher: batcher)
        }
        router.post("/mo") { request, context in
            await reply(request, from: context, gateway: nil)
        }
        router.post("/mo/{gateway}") { request, context in
            await reply(request, from: context, gateway: context.parameters.get("gateway"))
        }
        router.get("/s/{code}") { _, context in
            await click(context.parameters.get("code"), from: context)
        }
        return router
    }

    /// A customer's click on a tracked link: recorded against its message, then sent on to the campaign's target.
    /// Links come from phones, so they carry no credentials: a code is checked by its tag instead, and callers are
    /// held to the same rate per address as the webhook's.
    private func click(_ code: String?, from context: ReceiptRequestContext) async -> Response {
        do throws(Rejection) {
            try admit(context)
        } catch {
            return refuse(error)
        }
        let links: LinkCoder
        do {
            links = try await self.links.coder(of: store)
        } catch {
            logger.error("the store's link key could not be read: answered 503", metadata: ["error": "\(error)"])
            return refuse(.storeUnavailable)
        }
        let unknown = Response(
            status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "This link does not exist.\n")))
        guard let (campaign, line) = code.flatMap(links.decode) else {
            metrics.unknownLink()
            return unknown
        }
        let clicked: (campaign: String, target: String?)?
        do {
            clicked = try await store.recordClick(campaignNumber: campaign, line: line, at: now())
        } catch {
            logger.error(
                "a click could not be recorded: answered 503", metadata: ["error": "\(error)"])
            return refuse(.storeUnavailable)
        }
        guard let clicked, let target = clicked.target else {
            metrics.unknownLink()
            return unknown
        }
        metrics.clicked()
        let destination = TrackedLinks.destination(
            target: target, campaign: clicked.campaign, utm: configuration.linkParameters)
        return Response(status: .found, headers: [.location: destination, .cacheControl: "no-store"])
    }

    private func receipt(
        _ request: Request, from context: ReceiptRequestContext, gateway: String?, batcher: ReceiptBatcher
    ) async -> Response {
        do throws(Rejection) {
            try admit(context)
            let read = try await acceptReceipts(request, gateway: gateway, batcher: batcher)
            if let answer = read.answer { return Self.answer(answer) }
            return Response.json(.ok) { json in
                json.field("status", "ok")
                guard let skipped = read.skipped else { return }
                json.field("receipts", read.count)
                json.field("skipped") { list in
                    list.array { list in
                        for (index, error) in skipped {
                            list.object { item in
                                item.field("index", index)
                                item.field("error", error.message)
                            }
                        }
                    }
                }
            }
        } catch {
            return refuse(error)
        }
    }

    /// Replies as `POST /mo` takes them, one a request or a JSON list of them (Alibaba Cloud posts lists); at
    /// `/mo/NAME`, answered as the gateway's receipts are (its `receipts.answer`).
    private func reply(_ request: Request, from context: ReceiptRequestContext, gateway: String?) async -> Response {
        do throws(Rejection) {
            try admit(context)
            var answer: String?
            if let gateway {
                guard let mapping = configuration.gateways[gateway] else { throw .unknownGateway }
                answer = mapping.answer
            }
            let unsubscribed = try await acceptReplies(request)
            if let answer { return Self.answer(answer) }
            return Response.json(.ok) { json in
                json.field("status", "ok")
                json.field("unsubscribed", unsubscribed)
            }
        } catch {
            return refuse(error)
        }
    }

    /// Reads a receipt request and returns once its final receipts are committed.
    private func acceptReceipts(_ request: Request, gateway: String?, batcher: ReceiptBatcher) async throws(Rejection)
        -> ReadReceipts
    {
        await batcher.beginRead()
        let read: ReadReceipts
        do {
            read = try await readReceipts(request, gateway: gateway)
        } catch {
            await batcher.endRead()
            throw error
        }
        guard !read.records.isEmpty else {
            await batcher.endRead()
            return read
        }
        do {
            try await batcher.commit(read.records)
        } catch {
            logger.error(
                "receipts could not be written: answered 503, for the gateway to send them again",
                metadata: [
                    "gateway.name": "\(gateway ?? "-")", "receipts": "\(read.records.count)", "error": "\(error)",
                ])
            throw .storeUnavailable
        }
        return read
    }

    /// What a receipt request carries: the records it asks the store to write (none for an intermediate receipt,
    /// which moves nothing), and for a list, what was read and skipped.
    private struct ReadReceipts {
        var records: [ReceiptRecord] = []
        /// Receipts read, final or intermediate.
        var count = 0
        /// A list's unreadable items by index; nil for a request that carried one receipt.
        var skipped: [(index: Int, error: ReceiptError)]?
        /// The gateway's own answer, when its mapping names one.
        var answer: String?
    }

    private func readReceipts(_ request: Request, gateway: String?) async throws(Rejection) -> ReadReceipts {
        let body = try await admittedBody(request)
        var mapping = ReceiptMapping.standard
        if let gateway {
            guard let configured = configuration.gateways[gateway] else { throw .unknownGateway }
            mapping = configured
        }
        var receipts: [DeliveryReceipt] = []
        var read = ReadReceipts(answer: mapping.answer)
        do throws(ReceiptError) {
            switch try DeliveryReceipts(body: body, query: Self.query(of: request), mapping: mapping) {
            case .one(let receipt):
                receipts = [receipt]
            case .list(let items):
                var skipped: [(index: Int, error: ReceiptError)] = []
                for (index, item) in items.enumerated() {
                    switch item {
                    case .success(let receipt): receipts.append(receipt)
                    case .failure(let error): skipped.append((index, error))
                    }
                }
                if receipts.isEmpty, let first = skipped.first {
                    throw ReceiptError(first.error.code, "no item could be read; item \(first.index): \(first.error)")
                }
                for item in skipped { metrics.skipped(item.error.code) }
                read.skipped = skipped
            }
        } catch {
            throw Rejection(error)
        }
        let at = now()
        for receipt in receipts {
            metrics.received(receipt.status)
            guard let state = receipt.status.messageState else { continue }
            read.records.append(
                ReceiptRecord(gateway: gateway, gatewayMessageID: receipt.gatewayMessageID, state: state, at: at))
        }
        read.count = receipts.count
        return read
    }

    /// - Returns: whether a sender was unsubscribed.
    private func acceptReplies(_ request: Request) async throws(Rejection) -> Bool {
        let body = try await admittedBody(request)
        var replies: [InboundReply] = []
        do throws(ReceiptError) {
            switch try WebhookFields.items(body: body, query: Self.query(of: request)) {
            case .one(let fields):
                replies = [try InboundReply(fields, defaultRegion: configuration.defaultRegion)]
            case .list(let items):
                for item in items {
                    replies.append(try InboundReply(item.get(), defaultRegion: configuration.defaultRegion))
                }
            }
        } catch {
            throw Rejection(error)
        }
        let unsubscribing = replies.filter { keywords.matches($0.text) }
        if !unsubscribing.isEmpty {
            do {
                try await store.suppress(unsubscribing.map(\.sender.e164Value))
            } catch {
                logger.error(
                    "an unsubscribe could not be written: answered 503, for the gateway to send it again",
                    metadata: ["error": "\(error)"])
                throw .storeUnavailable
            }
        }
        for reply in replies { metrics.replied(unsubscribed: keywords.matches(reply.text)) }
        return !unsubscribing.isEmpty
    }

    /// Takes a token from the caller's bucket, or refuses the request before anything of it is read.
    private func admit(_ context: ReceiptRequestContext) throws(Rejection) {
        if let wait = limiter.admit(context.remoteAddress?.ipAddress ?? "unknown") {
            throw .rateLimited(retryAfterSeconds: Int((wait / .seconds(1)).rounded(.up)))
        }
    }

    /// The request's body, once it is known to be within the size limit and to carry valid credentials.
    private func admittedBody(_ request: Request) async throws(Rejection) -> [UInt8] {
        let body = try await request.collectedBody(upTo: configuration.maxBody)
        try authenticator.check(request, body: body, now: now())
        return body
    }

    /// The query string whose fields count: none for a signed request, whose signature covers only the body.
    private static func query(of request: Request) -> String? {
        request.headers[.sparrowSignature] == nil ? request.uri.query : nil
    }

    private func refuse(_ rejection: Rejection) -> Response {
        metrics.rejected(rejection.reason)
        var response = Response.json(rejection.status) { $0.field("error", rejection.message) }
        if rejection.status == .contentTooLarge { response.headers[.connection] = "close" }
        if let seconds = rejection.retryAfterSeconds { response.headers[.retryAfter] = String(max(1, seconds)) }
        return response
    }

    /// A 200 with a gateway's own answer: JSON when it starts as JSON does.
    private static func answer(_ text: String) -> Response {
        let type = JSONValue.opensContainer(text.utf8) ? "application/json" : "text/plain; charset=utf-8"
        return Response(
            status: .ok, headers: [.contentType: type],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A request the webhook refuses before it reaches the store (or that the store could not take): the HTTP status,
/// the reason (a bounded code, also the metrics label) and a short message for the JSON answer.
struct Rejection: Error {
    var status: HTTPResponse.Status
    var reason: String
    var message: String
    var retryAfterSeconds: Int?

    static func tooLarge(_ limit: Int) -> Self {
        Self(status: .contentTooLarge, reason: "too-large", message: "the body is larger than \(limit) bytes")
    }
    static let unreadableBody = Self(
        status: .badRequest, reason: "unreadable-body", message: "the body could not be read")
    static func rateLimited(retryAfterSeconds: Int) -> Self {
        var rejection = Self(
            status: .tooManyRequests, reason: "rate-limited", message: "too many requests from this address")
        rejection.retryAfterSeconds = retryAfterSeconds
        return rejection
    }
    static let unknownGateway = Self(status: .notFound, reason: "unknown-gateway", message: "no gateway of that name")
    static let storeUnavailable = Self(
        status: .serviceUnavailable, reason: "store-error", message: "the store could not take it; send it again later")

    init(status: HTTPResponse.Status, reason: String, message: String) {
        self.status = status
        self.reason = reason
        self.message = message
    }

    init(_ error: ReceiptError) {
        self.init(status: .badRequest, reason: error.code.description, message: error.message)
    }

    init(_ refusal: WebhookAuthenticator.Refusal) {
        self.init(status: .unauthorized, reason: refusal.code.description, message: refusal.message)
    }
}

extension ReceiptStatus {
    /// The journal state a receipt of this status moves its message to; nil for an intermediate receipt.
    var messageState: MessageState? {
        switch self {
        case .accepted: nil
        case .delivered: .delivered
        case .undelivered: .undelivered
        case .expired: .expired
        }
    }
}

extension HTTPField.Name {
    static let sparrowTimestamp = Self(WebhookAuthenticator.timestampHeader)!
    static let sparrowSignature = Self(WebhookAuthenticator.signatureHeader)!
}

/// The webhook's request context: Hummingbird's, and the caller's address for the rate limit.
struct ReceiptRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// The callers' buckets, shared by every request of one server, read against the server's monotonic clock.
final class ClientLimiter: Sendable {
    private let limits: Lock<ClientRateLimits>
    /// The time since the limiter was made, on its clock.
    private let elapsed: @Sendable () -> Duration

    init<C: Clock>(_ limits: ClientRateLimits, clock: C) where C.Duration == Duration {
        self.limits = Lock(limits)
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
    }

    /// nil when `client` may go on; else how long it must wait.
    func admit(_ client: String) -> Duration? {
        let now = elapsed()
        return limits.withLock { $0.admit(client, now: now) }
    }
}

/// The coder of a store's tracked links, its key read from the store at the first click and kept.
actor LinkCoderCache {
    private var coder: LinkCoder?

    func coder(of store: any CampaignStore) async throws -> LinkCoder {
        if let coder { return coder }
        let made = LinkCoder(key: try await store.linkKey())
        coder = made
        return made
    }
}
