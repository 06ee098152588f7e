import ArgumentParser
import Foundation
import SparrowCommandSupport
import SparrowGatewaySim

/// `sparrow-gateway-sim`: an executable of its own, so that the production binary carries no simulator.
@main
struct GatewaySim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sparrow-gateway-sim",
        abstract: "Run a local HTTP SMS gateway for demos, tests and benchmarks.",
        discussion: """
            Accepts messages on any path in the JSON, form and query-string dialects, answers with generated \
            message ids, and reports messages, distinct idempotency keys and duplicates at GET /stats.
            """)

    @OptionGroup var logging: LoggingOptions

    @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one).")
    var listen = ListenAddress(host: "127.0.0.1", port: 8088)

    @Option(name: .customLong("fail-503"), help: "Share of messages answered 503 (0 to 1).")
    var serviceUnavailable: Double = 0

    @Option(name: .customLong("fail-429"), help: "Share of messages answered 429 with Retry-After (0 to 1).")
    var tooManyRequests: Double = 0

    @Option(help: "Seconds in the Retry-After of a 429.")
    var retryAfter: Int = 1

    @Option(help: "Share of messages never answered (0 to 1): the client times out.")
    var neverAnswer: Double = 0

    @Option(help: "Share of messages taken, then answered with a TCP reset (0 to 1): the client cannot tell.")
    var resetConnection: Double = 0

    @Option(help: "Milliseconds added to every answer.")
    var latencyMs: Int = 0

    @Option(help: "An outage, START_MS:LENGTH_MS after launch, in which every message is answered 503.")
    var outage: String?

    @Option(help: "Serve HTTPS with this certificate chain (PEM); needs --tls-key.")
    var tlsCert: String?

    @Option(help: "The private key (PEM) of --tls-cert.")
    var tlsKey: String?

    @Flag(help: "With --tls-cert, offer HTTP/2 as well as HTTP/1.1 (ALPN).")
    var http2 = false

    @Option(help: "Post a delivery receipt for every accepted message to this URL.")
    var receiptsURL: String?

    @Option(help: "Bearer token the receipts and replies carry.")
    var receiptToken: String?

    @Option(help: "Post a customer's reply for a share of the messages taken to this URL (a webhook's /mo/GATEWAY).")
    var repliesURL: String?

    @Option(help: "With --replies-url: share of the messages taken that get a reply (0 to 1).")
    var replyShare: Double = 0.01

    @Option(help: "With --replies-url: what the customers answer (R: the opt-out marketing templates invite).")
    var replyText = "R"

    @Option(help: "Milliseconds before a receipt is sent.")
    var receiptDelayMs: Int = 1000

    @Option(help: "Up to this many milliseconds more, at random, so that receipts arrive out of order.")
    var receiptJitterMs: Int = 0

    @Option(help: "Shares of delivered and failed receipts, DELIVERED,FAILED; the rest expire.")
    var receiptMix: String = "0.95,0.04"

    @Option(help: "Share of receipts sent twice.")
    var receiptDuplicates: Double = 0

    @Option(help: "Post JSON receipts as JSON arrays of up to this many, each within 50 ms of its first being due.")
    var receiptList: Int = 1

    @Option(help: "Share of the numbers of a batch refused one by one in its answer (0 to 1).")
    var refuseNumbers: Double = 0

    @Option(help: "Numbers a batch may carry; a larger one is answered 400.")
    var batchLimit: Int = 1000

    @Option(
        help: "A provider template id (Tencent TemplateId, Alibaba TemplateCode) refused as not approved; repeatable.")
    var unapprovedTemplate: [String] = []

    @Option(help: "Check Tencent Cloud requests' TC3 signatures against these credentials, SECRET_ID:SECRET_KEY.")
    var tencentSecret: String?

    @Option(help: "Check Alibaba Cloud requests' signatures against this AccessKey, ACCESS_KEY_ID:ACCESS_KEY_SECRET.")
    var aliyunSecret: String?

    @Flag(help: "Play a gateway that ignores idempotency keys: every request is a new message.")
    var noIdempotency = false

    @Option(help: "Append a line 'MICROSECONDS_SINCE_START NUMBER' to this file for every new message.")
    var arrivalLog: String?

    @Option(help: "Append every new message's request body, one per line, to this file (to replay the requests).")
    var bodyLog: String?

    @Option(help: "Append a line 'MICROSECONDS_SINCE_START KEY ANSWER' to this file for every request.")
    var requestLog: String?

    @Option(help: "Seed of the fault draws, so that runs repeat.")
    var seed: UInt64 = 1

    func validate() throws {
        for share in [
            serviceUnavailable, tooManyRequests, neverAnswer, resetConnection, receiptDuplicates, refuseNumbers,
        ]
        where !(0...1).contains(share) {
            throw ValidationError("fault shares are between 0 and 1")
        }
        guard receiptShares != nil else {
            throw ValidationError("--receipt-mix must be DELIVERED,FAILED adding up to at most 1")
        }
        guard serviceUnavailable + tooManyRequests + neverAnswer + resetConnection <= 1 else {
            throw ValidationError("fault shares add up to more than 1")
        }
        guard (tlsCert == nil) == (tlsKey == nil) else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard !http2 || tlsCert != nil else {
            throw ValidationError("--http2 needs --tls-cert: HTTP/2 is offered over TLS")
        }
        if outage != nil, outageWindow == nil { throw ValidationError("--outage must be START_MS:LENGTH_MS") }
        guard (1...1000).contains(receiptList) else { throw ValidationError("--receipt-list is from 1 to 1000") }
        guard (0...1).contains(replyShare) else { throw ValidationError("--reply-share is between 0 and 1") }
        guard batchLimit >= 1 else { throw ValidationError("--batch-limit is at least 1") }
        if let tencentSecret, GatewaySimulator.KeyPair(tencentSecret) == nil {
            throw ValidationError("--tencent-secret is SECRET_ID:SECRET_KEY")
        }
        if let aliyunSecret, GatewaySimulator.KeyPair(aliyunSecret) == nil {
            throw ValidationError("--aliyun-secret is ACCESS_KEY_ID:ACCESS_KEY_SECRET")
        }
    }

    private var receiptShares: (delivered: Double, failed: Double)? {
        let parts = receiptMix.split(separator: ",").compactMap { Double($0) }
        guard parts.count == 2, parts.allSatisfy({ $0 >= 0 }), parts[0] + parts[1] <= 1 else { return nil }
        return (parts[0], parts[1])
    }

    private var outageWindow: Range<Duration>? {
        guard let parts = outage?.split(separator: ":"), parts.count == 2, let start = Int(parts[0]),
            let length = Int(parts[1]), start >= 0, length > 0
        else { return nil }
        return .milliseconds(start)..<(.milliseconds(start + length))
    }

    func run() async throws {
        logging.bootstrap()
        let address = listen
        let simulator = GatewaySimulator(
            faults: .init(
                serviceUnavailable: serviceUnavailable, tooManyRequests: tooManyRequests, retryAfterSeconds: retryAfter,
                neverAnswered: neverAnswer, connectionReset: resetConnection, latency: .milliseconds(latencyMs),
                outage: outageWindow, refusedNumbers: refuseNumbers, batchLimit: batchLimit,
                unapprovedTemplates: Set(unapprovedTemplate)),
            honoursIdempotency: !noIdempotency, seed: seed,
            tls: tlsCert.map { GatewaySimulator.TLSFiles(certificateChain: $0, privateKey: tlsKey!, http2: http2) },
            receipts: receiptsURL.map { url in
                GatewaySimulator.Receipts(
                    url: url, token: receiptToken, delay: .milliseconds(receiptDelayMs),
                    jitter: .milliseconds(receiptJitterMs), delivered: receiptShares!.delivered,
                    failed: receiptShares!.failed, duplicates: receiptDuplicates, perPost: receiptList)
            },
            replies: repliesURL.map { url in
                GatewaySimulator.Replies(url: url, token: receiptToken, share: replyShare, text: replyText)
            }, tencent: tencentSecret.flatMap(GatewaySimulator.KeyPair.init),
            aliyun: aliyunSecret.flatMap(GatewaySimulator.KeyPair.init), arrivalLog: arrivalLog, bodyLog: bodyLog,
            requestLog: requestLog)
        let scheme = tlsCert == nil ? "http" : "https"
        try await runUntilSignalled(notice: "gateway-sim: stopping: answering the requests in flight") {
            try await simulator.run(host: address.host, port: address.port) { port in
                // Written at once, unbuffered: scripts wait for this line to learn the port.
                FileHandle.standardOutput.write(
                    Data("gateway-sim listening on \(scheme)://\(address.host):\(port)\n".utf8))
            }
        }
    }
}
