import Glibc
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import NIOCore
import NIOHTTPTypes
import NIOSSL
import ServiceLifecycle
import SparrowCore
import Synchronization

/// A local HTTP SMS gateway for demos, tests and benchmarks. It accepts a message on any path (the three example
/// dialects — JSON, form and query string — are all one to it), answers with a generated message id, and counts
/// messages, distinct idempotency keys and duplicates (`GET /stats`). A repeated `Idempotency-Key` gets the first
/// answer again and counts as a duplicate, not a new message, unless the simulator plays a gateway that ignores
/// keys. Faults are injected by fractions, drawn from a seeded generator so that runs repeat.
public struct GatewaySimulator: Sendable {
    public struct Faults: Sendable, Hashable {
        /// Share of messages answered 503 Service Unavailable.
        public var serviceUnavailable: Double
        /// Share of messages answered 429 Too Many Requests with `Retry-After: retryAfterSeconds`.
        public var tooManyRequests: Double
        public var retryAfterSeconds: Int
        /// Added to every answer.
        public var latency: Duration
        /// Share of messages never answered (the request is read, then nothing: the client times out).
        public var neverAnswered: Double
        /// Share of messages taken, then answered with a TCP reset instead of an answer: the client cannot tell
        /// whether the message went. A repeat of its idempotency key is a duplicate.
        public var connectionReset: Double
        /// A window, from the simulator's creation, in which every message is answered 503.
        public var outage: Range<Duration>?
        /// Share of the numbers of a batch refused one by one ("invalid number") in its answer.
        public var refusedNumbers: Double
        /// Numbers a batch may carry: a larger one is answered 400.
        public var batchLimit: Int
        /// Provider template ids (Tencent's `TemplateId`, Alibaba's `TemplateCode`) refused as not approved.
        public var unapprovedTemplates: Set<String>
        /// Status queries (Tencent's `PullSmsSendStatus`, Alibaba's `QuerySendDetails`) answered with a reset, the
        /// first this many.
        public var lostQueries: Int

        public init(
            serviceUnavailable: Double = 0, tooManyRequests: Double = 0, retryAfterSeconds: Int = 1,
            neverAnswered: Double = 0, connectionReset: Double = 0, latency: Duration = .zero,
            outage: Range<Duration>? = nil, refusedNumbers: Double = 0, batchLimit: Int = 1000,
            unapprovedTemplates: Set<String> = [], lostQueries: Int = 0
        ) {
            self.unapprovedTemplates = unapprovedTemplates
            self.lostQueries = lostQueries
            self.refusedNumbers = refusedNumbers
            self.batchLimit = batchLimit
            self.connectionReset = connectionReset
            self.serviceUnavailable = serviceUnavailable
            self.tooManyRequests = tooManyRequests
            self.retryAfterSeconds = retryAfterSeconds
            self.neverAnswered = neverAnswered
            self.latency = latency
            self.outage = outage
        }
    }

    /// What the simulator has seen, as `GET /stats` reports it.
    public struct Stats: Sendable, Hashable {
        /// Messages accepted: one per distinct idempotency key (or per request without a key).
        public var messages = 0
        public var distinctKeys = 0
        /// Requests that repeated a key already accepted.
        public var duplicates = 0
        /// Requests answered with an injected fault (a reset connection counts here and, as a message taken, above).
        public var faults = 0
        /// Receipts posted, and the requests that carried them (fewer when receipts go in lists).
        public var receipts = 0
        public var receiptPosts = 0
        /// Replies posted.
        public var replies = 0

        public init(
            messages: Int = 0, distinctKeys: Int = 0, duplicates: Int = 0, faults: Int = 0, receipts: Int = 0,
            receiptPosts: Int = 0, replies: Int = 0
        ) {
            self.replies = replies
            self.messages = messages
            self.distinctKeys = distinctKeys
            self.duplicates = duplicates
            self.faults = faults
            self.receipts = receipts
            self.receiptPosts = receiptPosts
        }

        var json: String {
            #"{"messages":\#(messages),"distinct_keys":\#(distinctKeys),"duplicates":\#(duplicates),"#
                + #""faults":\#(faults),"receipts":\#(receipts),"receipt_posts":\#(receiptPosts),"#
                + #""replies":\#(replies)}"#
        }
    }

    /// A certificate chain and its private key, both PEM files, to serve HTTPS.
    public struct TLSFiles: Sendable, Hashable {
        public var certificateChain: String
        public var privateKey: String
        /// Offer HTTP/2 as well as HTTP/1.1 (ALPN), to play a gateway that multiplexes on few connections.
        ///
        /// A graceful shutdown then waits for each HTTP/2 client to answer its GOAWAY and PING, which an idle
        /// libcurl does not do until its next transfer: end such clients first.
        public var http2: Bool

        public init(certificateChain: String, privateKey: String, http2: Bool = false) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.http2 = http2
        }
    }

    public var faults: Faults
    public var honoursIdempotency: Bool
    public var seed: UInt64
    public var tls: TLSFiles?
    /// Delivery receipts to send back for accepted messages.
    public var receipts: Receipts?
    /// Customers' replies to post for a share of the messages taken.
    public var replies: Replies?
    /// Credentials every message must carry.
    public var auth: Auth?
    /// The SecretId and SecretKey that Tencent Cloud requests (`X-TC-Action`) are signed with; without them the
    /// simulator takes any signature.
    public var tencent: KeyPair?
    /// The AccessKey that Alibaba Cloud requests (`Action=SendSms` in a form) are signed with; without it the
    /// simulator takes any signature.
    public var aliyun: KeyPair?

    let state: SimulatorState
    /// What Tencent and Alibaba clients' status queries read.
    let statuses = ProviderStatusBook()

    /// A file that gets a line `MICROSECONDS_SINCE_START TO` for every new message, to measure rates as the gateway
    /// sees them.
    public var arrivalLog: String?
    /// A file that gets the request body of every new message, one per line (a dialect's encoding never leaves a
    /// raw newline in a body), to replay the exact requests from another client.
    public var bodyLog: String?
    /// A file that gets a line `MICROSECONDS_SINCE_START KEY ANSWER` for every request, answered or not (`-` for a
    /// request without an idempotency key), to measure how clients retry.
    public var requestLog: String?

    public init(
        faults: Faults = Faults(), honoursIdempotency: Bool = true, seed: UInt64 = 1, tls: TLSFiles? = nil,
        receipts: Receipts? = nil, replies: Replies? = nil, auth: Auth? = nil, tencent: KeyPair? = nil,
        aliyun: KeyPair? = nil,
        arrivalLog: String? = nil, bodyLog: String? = nil, requestLog: String? = nil
    ) {
        self.tencent = tencent
        self.aliyun = aliyun
        self.arrivalLog = arrivalLog
        self.bodyLog = bodyLog
        self.requestLog = requestLog
        self.faults = faults
        self.honoursIdempotency = honoursIdempotency
        self.seed = seed
        self.tls = tls
        self.receipts = receipts
        self.replies = replies
        self.auth = auth
        state = SimulatorState(seed: seed)
    }

    public var stats: Stats { state.stats }

    /// Client connections seen (distinct client addresses): HTTP/2 streams multiplexed on one connection count once.
    public var clientConnections: Int { state.clientConnections }

    /// Starts or ends an outage by hand: while it lasts, every message is answered 503.
    public func setOutage(_ active: Bool) {
        state.setOutage(active)
    }

    /// Serves on `host:port` until its service group shuts down gracefully: no new connections, the requests in
    /// flight answered; `onRunning` gets the bound port (useful with port 0).
    /// - Throws: when the address cannot be bound or the TLS files cannot be read.
    public func run(host: String, port: Int, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws
    {
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [
            ClientConnections(state: state), ConnectionResetHandler(),
        ])
        var server = HTTPServerBuilder.http1(configuration: http1)
        if let tls {
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChain).map {
                NIOSSLCertificateSource.certificate($0)
            }
            let key = try NIOSSLPrivateKey(file: tls.privateKey, format: .pem)
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key))
            server =
                if tls.http2 {  // HTTP/2 or HTTP/1.1, as the client's ALPN asks
                    try .http2Upgrade(tlsConfiguration: configuration, configuration: .init(streamConfiguration: http1))
                } else {
                    try .tls(.http1(configuration: http1), tlsConfiguration: configuration)
                }
        }
        let logs = MessageLogs(
            arrivals: try arrivalLog.map(LineLog.init(path:)), bodies: try bodyLog.map(LineLog.init(path:)),
            requests: try requestLog.map(LineLog.init(path:)))
        let sender = receipts == nil && replies == nil ? nil : ReceiptSender(receipts, replies: replies, state: state)
        let app = Application(
            router: router(receipts: sender, logs: logs), server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "sparrow-gateway-sim"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
        let served: Result<Void, any Error>
        do {
            served = .success(try await app.run())
        } catch {
            served = .failure(error)
        }
        await sender?.shutdown()
        try served.get()
    }

    func router(receipts: ReceiptSender?, logs: MessageLogs) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/stats") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: state.stats.json)))
        }
        let accept: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var response = try await answer(request, receipts: receipts, logs: logs)
            // The connection closes after this answer: say so (RFC 9112, 9.6), or the client would send on it again.
            if request.headers[.connection]?.lowercased().contains("close") == true {
                response.headers[.connection] = "close"
            }
            return response
        }
        for path: RouterPath in ["/", "**"] {
            router.post(path, use: accept)
            router.get(path, use: accept)
            router.put(path, use: accept)
        }
        return router
    }

    private func answer(_ request: Request, receipts: ReceiptSender?, logs: MessageLogs) async throws -> Response {
        if let target = Self.redirectTarget(request.uri) {  // a gateway that has moved (`follow_redirects`)
            return Response(status: .movedPermanently, headers: [.location: target])
        }
        let body = try await request.body.collect(upTo: 1 << 20)
        if let auth, !auth.admits(request, body: Array(body.readableBytesView)) {
            return Response(
                status: .unauthorized, body: .init(byteBuffer: ByteBuffer(string: #"{"error":"bad credentials"}"#)))
        }
        if faults.latency > .zero { try await Task.sleep(for: faults.latency) }
        if request.headers[Self.tencentAction] != nil {
            return try await answerTencent(request, body: body, receipts: receipts, logs: logs)
        }
        if let action = AlibabaRequest.Action(body) {
            return try await answerAlibaba(action, body: body, receipts: receipts, logs: logs)
        }
        let path = request.uri.path  // parsed from the URI on each read
        if let batch = BatchRequest(path: path, query: request.uri.query, body: body) {
            return try await answer(batch, body: body, receipts: receipts, logs: logs)
        }
        let dialect = Dialect(path: path)
        let key =
            request.headers[HTTPField.Name("Idempotency-Key")!]
            ?? request.headers[HTTPField.Name("I-Twilio-Idempotency-Token")!]
        let decision = state.decide(key: honoursIdempotency ? key : nil, faults: faults)
        logs.answer(decision, key: key)
        switch decision {
        case .unavailable: return Self.unavailable
        case .throttled: return throttled
        case .silent: try await Self.neverAnswer()
        case .reset(let messageIDs):
            logs.record(request, body: body)
            return Response(status: .ok, headers: [ConnectionResetHandler.marker: messageIDs[0] ?? "-"])
        case .accepted(let messageIDs, let isNew):
            let messageID = messageIDs[0]!  // a request of one message has no number refused alone
            if isNew {
                logs.record(request, body: body)
                if let receipts {
                    let recipient = RequestFields(query: request.uri.query, body: body).recipient
                    receipts.schedule(
                        messageID: dialect.visibleID(messageID), to: recipient,
                        style: dialect == .twilio ? .twilio : .json, draw: state.draw)
                }
            }
            return dialect.acceptance(messageID: messageID)
        }
    }

    /// Answers a request of several messages: a fault for the whole request, or a result per number.
    private func answer(
        _ batch: BatchRequest, body: ByteBuffer, receipts: ReceiptSender?, logs: MessageLogs
    ) async throws -> Response {
        guard batch.numbers.count <= faults.batchLimit else { return BatchRequest.tooLarge(limit: faults.batchLimit) }
        let decision = state.decide(key: nil, faults: faults, count: batch.numbers.count)
        logs.answer(decision, key: nil)
        switch decision {
        case .unavailable: return Self.unavailable
        case .throttled: return throttled
        case .silent: try await Self.neverAnswer()
        case .reset(let messageIDs):
            logs.record(numbers: batch.numbers, given: messageIDs, body: body)
            return Self.reset
        case .accepted(let messageIDs, _):
            logs.record(numbers: batch.numbers, given: messageIDs, body: body)
            for case (let number, let messageID?) in zip(batch.numbers, messageIDs) {
                receipts?.schedule(messageID: messageID, to: number, style: .json, draw: state.draw)
            }
            return BatchRequest.acceptance(
                batchID: "batch-" + (messageIDs.lazy.compactMap { $0 }.first ?? "none"), numbers: batch.numbers,
                messageIDs: messageIDs)
        }
    }

}

extension GatewaySimulator {
    /// The header that tells a Tencent Cloud API request.
    static let tencentAction = HTTPField.Name("X-TC-Action")!

    /// An answer whose body is the JSON `bytes`.
    static func jsonAnswer(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The injected 503, as a generic gateway answers it.
    static var unavailable: Response {
        Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: #"{"error":"unavailable"}"#)))
    }

    /// The injected 429, with its `Retry-After`.
    var throttled: Response {
        Response(
            status: .tooManyRequests, headers: [.retryAfter: String(faults.retryAfterSeconds)],
            body: .init(byteBuffer: ByteBuffer(string: #"{"error":"rate limited"}"#)))
    }

    /// The answer the connection-reset handler turns into a TCP reset.
    static var reset: Response { Response(status: .ok, headers: [ConnectionResetHandler.marker: "-"]) }

    /// Never answers a request: it waits until the client gives up, or the server shuts down.
    static func neverAnswer() async throws -> Never {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(3600)) }
        throw CancellationError()
    }

    /// `/redirect/REST` has moved to `/REST`, query kept: a 301, after which a client may turn a POST into a GET
    /// without its body, as browsers do.
    static func redirectTarget(_ uri: URI) -> String? {
        let (path, prefix) = (uri.path, "/redirect/")  // `path` is parsed from the URI on each read
        guard path.hasPrefix(prefix) else { return nil }
        let target = "/" + path.dropFirst(prefix.count)
        return uri.query.map { target + "?" + $0 } ?? target
    }
}

/// The files that get a line for every new message the simulator takes, or for every request.
struct MessageLogs: Sendable {
    /// `MICROSECONDS_SINCE_START NUMBER`, to measure rates as the gateway sees them.
    var arrivals: LineLog?
    /// The request body as it came.
    var bodies: LineLog?
    /// `MICROSECONDS_SINCE_START KEY ANSWER` for every request.
    var requests: LineLog?
    let started = ContinuousClock.now

    private var microseconds: Int64 { Int64((ContinuousClock.now - started) / .microseconds(1)) }

    func record(_ request: Request, body: ByteBuffer) {
        record(number: RequestFields(query: request.uri.query, body: body).recipient ?? "-")
        record(body: body)
    }

    func record(number: String) {
        arrivals?.append("\(microseconds) \(number)".utf8)
    }

    /// A request of several messages: each number that was given an id (taken), then the body.
    func record(numbers: [String], given messageIDs: [String?], body: ByteBuffer) {
        for (number, messageID) in zip(numbers, messageIDs) where messageID != nil { record(number: number) }
        record(body: body)
    }

    func record(body: ByteBuffer) {
        bodies?.append(body.readableBytesView)
    }

    func answer(_ decision: SimulatorState.Decision, key: String?) {
        guard let requests else { return }
        let answer =
            switch decision {
            case .accepted(_, let isNew): isNew ? "accepted" : "repeated"
            case .reset: "reset"
            case .unavailable: "503"
            case .throttled: "429"
            case .silent: "silent"
            }
        requests.append("\(microseconds) \(key ?? "-") \(answer)".utf8)
    }
}

/// A file written a line at a time, from any thread.
final class LineLog: Sendable {
    private let descriptor: Int32
    private let lock = Lock(())

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw LineLogError(path: path, errno: errno) }
    }

    deinit { close(descriptor) }

    /// Writes `line` and a newline in one `write`, so that lines from concurrent requests never interleave.
    func append(_ line: some Collection<UInt8>) {
        let bytes = Array(line) + [UInt8(ascii: "\n")]
        lock.withLock { _ in _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } }
    }
}

struct LineLogError: Error, CustomStringConvertible {
    var path: String
    var errno: Int32
    var description: String { "\(path): \(String(cString: strerror(errno)))" }
}

/// The simulator's counters and the answers it gave to each idempotency key, under one lock.
final class SimulatorState: Sendable {
    /// What a request gets; the messages it carries are given ids, nil for a number of a batch refused alone.
    enum Decision { case accepted([String?], isNew: Bool), reset([String?]), unavailable, throttled, silent }

    private struct Shared {
        var stats = GatewaySimulator.Stats()
        var answers: [String: String] = [:]
        var random: SplitMix64
        var outage = false
        /// Status queries asked so far.
        var queries = 0
        var clientAddresses: Set<String> = []
        var nonces: Set<String> = []
    }

    private let shared: Lock<Shared>
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant

    init(seed: UInt64) {
        shared = Lock(Shared(random: SplitMix64(seed: seed)))
        started = clock.now
    }

    var stats: GatewaySimulator.Stats { shared.withLock { $0.stats } }

    func postedReply() {
        shared.withLock { $0.stats.replies += 1 }
    }

    /// A request carrying `receipts` receipts was posted.
    func postedReceipts(_ receipts: Int) {
        shared.withLock { shared in
            shared.stats.receipts += receipts
            shared.stats.receiptPosts += 1
        }
    }

    var clientConnections: Int { shared.withLock { $0.clientAddresses.count } }

    func sawConnection(from address: String) {
        _ = shared.withLock { $0.clientAddresses.insert(address) }
    }

    /// Whether `nonce` is new: a signed request's nonce may be used once.
    func firstUse(of nonce: String) -> Bool {
        shared.withLock { $0.nonces.insert(nonce).inserted }
    }

    func setOutage(_ active: Bool) {
        shared.withLock { $0.outage = active }
    }

    /// Decides the answer to a request carrying `count` messages, under the idempotency `key` it may have.
    func decide(key: String?, faults: GatewaySimulator.Faults, count: Int = 1) -> Decision {
        shared.withLock { shared in
            if let key, let first = shared.answers[key] {
                shared.stats.duplicates += 1
                return .accepted([first], isNew: false)
            }
            let draw = shared.random.nextUnit()
            let inOutage = shared.outage || faults.outage?.contains(clock.now - started) == true
            if inOutage || draw < faults.serviceUnavailable {
                shared.stats.faults += 1
                return .unavailable
            }
            if draw < faults.serviceUnavailable + faults.tooManyRequests {
                shared.stats.faults += 1
                return .throttled
            }
            if draw < faults.serviceUnavailable + faults.tooManyRequests + faults.neverAnswered {
                shared.stats.faults += 1
                return .silent
            }
            let messageIDs = (0..<count).map { _ -> String? in
                guard count == 1 || shared.random.nextUnit() >= faults.refusedNumbers else { return nil }
                shared.stats.messages += 1
                return "sim-\(shared.stats.messages)"
            }
            if let key, let messageID = messageIDs[0] {
                shared.answers[key] = messageID
                shared.stats.distinctKeys += 1
            }
            if draw < faults.serviceUnavailable + faults.tooManyRequests + faults.neverAnswered + faults.connectionReset
            {
                shared.stats.faults += 1
                return .reset(messageIDs)
            }
            return .accepted(messageIDs, isNew: true)
        }
    }

    /// Whether the next status query is lost, as one of the first `lost`.
    func losesQuery(_ lost: Int) -> Bool {
        shared.withLock { shared in
            shared.queries += 1
            if shared.queries <= lost { shared.stats.faults += 1 }
            return shared.queries <= lost
        }
    }

    /// A uniform draw in [0, 1), for receipts.
    func draw() -> Double {
        shared.withLock { $0.random.nextUnit() }
    }
}

/// Notes the client address of each connection (an HTTP/2 stream's is its connection's).
final class ClientConnections: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let state: SimulatorState

    init(state: SimulatorState) {
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // An HTTP/2 stream's parent is its connection; an HTTP/1 connection's parent is the listening socket.
        if let address = context.channel.remoteAddress ?? context.channel.parent?.remoteAddress {
            state.sawConnection(from: address.description)
        }
    }
}

/// Turns an answer the simulator marked into a TCP reset: the connection is closed with `SO_LINGER` 0, so the
/// client gets RST instead of the answer, as from a gateway or load balancer that drops a connection mid-request.
/// Over HTTP/2 only the stream is reset. Hummingbird's handlers cannot reach the socket; this one sits in the
/// channel pipeline, after the HTTP codec.
final class ConnectionResetHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The header the router sets on an answer to reset instead; it never reaches the wire.
    static let marker = HTTPField.Name("X-Sparrow-Sim-Reset")!
    private var resetting = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head(let head) = unwrapOutboundIn(data), head.headerFields[Self.marker] != nil {
            resetting = true
            // On the event loop the option is set at once, before the close.
            _ = (context.channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
            context.close(promise: nil)
        }
        guard !resetting else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(data, promise: promise)
    }
}
