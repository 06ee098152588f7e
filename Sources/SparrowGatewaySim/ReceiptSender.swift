import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SparrowCore
import Synchronization

extension GatewaySimulator {
    /// Delivery receipts the simulator sends back, as real gateways do: after a delay, with a mix of final states,
    /// optionally out of order (a random extra delay) and duplicated.
    public struct Receipts: Sendable, Hashable {
        /// Where receipts are posted: as JSON, `{"message_id","to","status","error"}`, or for messages sent in
        /// Twilio's dialect as Twilio posts them, a form with `MessageSid`, `To`, `MessageStatus` and `ErrorCode`.
        public var url: String
        /// Sent as `Authorization: Bearer …` when set.
        public var token: String?
        public var delay: Duration
        /// Up to this much is added to each receipt's delay, so that receipts overtake one another.
        public var jitter: Duration
        /// Shares of `delivered` and `failed` receipts; the rest are `expired`.
        public var delivered: Double
        public var failed: Double
        /// Share of receipts sent twice.
        public var duplicates: Double
        /// Above 1, JSON receipts are posted as JSON arrays of up to this many, as Tencent Cloud posts them: a list
        /// goes once it is full, or `listWait` after its first receipt was due.
        public var perPost: Int
        public var listWait: Duration

        public init(
            url: String, token: String? = nil, delay: Duration = .seconds(1), jitter: Duration = .zero,
            delivered: Double = 0.95, failed: Double = 0.04, duplicates: Double = 0, perPost: Int = 1,
            listWait: Duration = .milliseconds(50)
        ) {
            precondition(perPost >= 1, "a post carries at least one receipt")
            self.url = url
            self.token = token
            self.delay = delay
            self.jitter = jitter
            self.delivered = delivered
            self.failed = failed
            self.duplicates = duplicates
            self.perPost = perPost
            self.listWait = listWait
        }
    }

    /// Replies the simulator posts for a share of the messages it takes, as the customers of a campaign answer it,
    /// in the shape its dialect's provider posts them (Tencent Cloud one object, Alibaba Cloud a list, Twilio a
    /// form, the others `{"from","text"}`).
    public struct Replies: Sendable, Hashable {
        /// Where replies are posted: a receipts webhook's `/mo/GATEWAY`, say.
        public var url: String
        /// Sent as `Authorization: Bearer …` when set.
        public var token: String?
        /// Share of the messages taken that get a reply.
        public var share: Double
        /// What the customers answer: by default `R`, the opt-out marketing templates in China invite.
        public var text: String
        public var delay: Duration

        public init(
            url: String, token: String? = nil, share: Double, text: String = "R", delay: Duration = .milliseconds(200)
        ) {
            self.url = url
            self.token = token
            self.share = share
            self.text = text
            self.delay = delay
        }
    }
}

/// Posts the receipts and replies of one simulator run through async-http-client, not Sparrow's own transport: a bug
/// of that transport cannot then hide on both sides of a test.
final class ReceiptSender: Sendable {
    private let plan: GatewaySimulator.Receipts?
    private let replies: GatewaySimulator.Replies?
    private let state: SimulatorState
    /// Up to 16 connections, as a gateway posting receipts in parallel keeps.
    private let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 16
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
    private let list = Lock(OpenList())

    /// The JSON receipts due and not yet posted, when they go in lists.
    private struct OpenList {
        var receipts: [[UInt8]] = []
        /// Lists taken so far, so that a list's timer posts only the list it was started for.
        var generation = 0

        mutating func take() -> [[UInt8]] {
            defer {
                receipts = []
                generation += 1
            }
            return receipts
        }
    }

    /// - Parameter state: counts the receipts and replies posted.
    init(_ plan: GatewaySimulator.Receipts?, replies: GatewaySimulator.Replies?, state: SimulatorState) {
        self.plan = plan
        self.replies = replies
        self.state = state
    }

    /// How a receipt is written: as the simulator's own JSON, as Twilio posts a form, or as Tencent Cloud or
    /// Alibaba Cloud post JSON (always in an array; Alibaba's names the request's `BizId` and the number).
    enum Style { case json, twilio, tencent, aliyun }

    /// Sends the receipt of `messageID` later, in `style`, and for a share of messages a reply from `to`; `draw`
    /// gives uniform numbers in [0, 1).
    func schedule(messageID: String, to: String?, style: Style, draw: @Sendable () -> Double) {
        if let replies, let to, draw() < replies.share { scheduleReply(replies, from: to, style: style) }
        guard let plan else { return }
        let state = draw()
        let status = state < plan.delivered ? "delivered" : state < plan.delivered + plan.failed ? "failed" : "expired"
        let copies = draw() < plan.duplicates ? 2 : 1
        var headers = ["Content-Type: application/json"]
        let body: [UInt8]
        switch style {
        case .twilio:
            // Twilio has no "expired": an undeliverable message ends "undelivered", a refused one "failed".
            let twilioStatus = status == "expired" ? "undelivered" : status
            var pairs = [("MessageSid", messageID), ("MessageStatus", twilioStatus)]
            if let to { pairs.append(("To", to)) }
            if status != "delivered" { pairs.append(("ErrorCode", "30008")) }
            body = Array(FormEncoding.encode(pairs).utf8)
            headers = ["Content-Type: application/x-www-form-urlencoded"]
        case .json:
            var json = JSONWriter()
            json.object { receipt in
                receipt.field("message_id", messageID)
                receipt.field("to", to)
                receipt.field("status", status)
                receipt.field("error", status == "failed" ? "UNDELIV" : nil)
            }
            body = json.bytes
        case .tencent:
            var json = JSONWriter()
            json.object { receipt in
                receipt.field("user_receive_time", "2026-12-06 10:00:00")
                receipt.field("nationcode", "86")
                receipt.field("mobile", to.map { String($0.filter(\.isNumber).suffix(11)) })
                receipt.field("report_status", status == "delivered" ? "SUCCESS" : "FAIL")
                receipt.field(
                    "errmsg", status == "delivered" ? "DELIVRD" : status == "failed" ? "UNDELIV" : "EXPIRED")
                receipt.field("description", status == "delivered" ? "用户短信送达成功" : "用户短信未送达")
                receipt.field("sid", messageID)
            }
            body = json.bytes
        case .aliyun:
            var json = JSONWriter()
            json.object { receipt in
                receipt.field("phone_number", to.map { String($0.filter(\.isNumber).suffix(11)) })
                receipt.field("send_time", "2026-12-06 10:00:00")
                receipt.field("report_time", "2026-12-06 10:00:05")
                receipt.field("success", status == "delivered")
                receipt.field(
                    "err_code", status == "delivered" ? "DELIVERED" : status == "failed" ? "UNDELIV" : "EXPIRED")
                receipt.field("err_msg", status == "delivered" ? "用户接收成功" : "用户接收失败")
                receipt.field("sms_size", "1")
                receipt.field("biz_id", messageID)
            }
            body = json.bytes
        }
        if let token = plan.token { headers.append("Authorization: Bearer \(token)") }
        let listed = style == .tencent || style == .aliyun || (style == .json && plan.perPost > 1)
        for _ in 0..<copies {
            let wait = plan.delay + plan.jitter * draw()
            Task { [headers] in
                try await Task.sleep(for: wait)
                if listed {
                    await self.add(body, headers: headers)
                } else {
                    await self.post(body, to: plan.url, headers: headers)
                    self.state.postedReceipts(1)
                }
            }
        }
    }

    /// Posts, after the replies' delay, `replies.text` from `number` as `style`'s provider posts a reply.
    private func scheduleReply(_ replies: GatewaySimulator.Replies, from number: String, style: Style) {
        let national = String(number.filter(\.isNumber).suffix(11))
        var headers = ["Content-Type: application/json"]
        let body: [UInt8]
        var json = JSONWriter()
        switch style {
        case .tencent:
            json.object { reply in
                reply.field("extend", "")
                reply.field("mobile", national)
                reply.field("nationcode", "86")
                reply.field("sign", "")
                reply.field("text", replies.text)
                reply.field("time", 1_795_377_600)
            }
            body = json.bytes
        case .aliyun:
            json.array { list in
                list.object { reply in
                    reply.field("phone_number", national)
                    reply.field("content", replies.text)
                    reply.field("send_time", "2026-12-06 10:00:00")
                    reply.field("dest_code", "")
                    reply.field("sequence_id", 1)
                }
            }
            body = json.bytes
        case .twilio:
            body = Array(FormEncoding.encode([("From", number), ("Body", replies.text)]).utf8)
            headers = ["Content-Type: application/x-www-form-urlencoded"]
        case .json:
            json.object { reply in
                reply.field("from", number)
                reply.field("text", replies.text)
            }
            body = json.bytes
        }
        if let token = replies.token { headers.append("Authorization: Bearer \(token)") }
        Task { [headers] in
            try await Task.sleep(for: replies.delay)
            await self.post(body, to: replies.url, headers: headers)
            self.state.postedReply()
        }
    }

    /// Adds a due receipt to the open list, and posts the list when it is full; a list's first receipt starts the
    /// timer that posts it when it does not fill up.
    private func add(_ receipt: [UInt8], headers: [String]) async {
        guard let plan else { return }
        let (full, opened) = list.withLock { list -> (full: [[UInt8]]?, opened: Int?) in
            list.receipts.append(receipt)
            guard list.receipts.count < plan.perPost else { return (list.take(), nil) }
            return (nil, list.receipts.count == 1 ? list.generation : nil)
        }
        if let full {
            await postList(full, headers: headers)
        } else if let opened {
            Task {
                try await Task.sleep(for: plan.listWait)
                let due = list.withLock { list in list.generation == opened ? list.take() : nil }
                if let due { await postList(due, headers: headers) }
            }
        }
    }

    /// Posts JSON receipts as one array.
    private func postList(_ receipts: [[UInt8]], headers: [String]) async {
        guard let plan else { return }
        let body = [UInt8(ascii: "[")] + Array(receipts.joined(separator: [UInt8(ascii: ",")])) + [UInt8(ascii: "]")]
        state.postedReceipts(receipts.count)
        await post(body, to: plan.url, headers: headers)
    }

    /// Posts a body to `url`, and again, as the providers do, while the webhook cannot be reached or answers 429 or
    /// 5xx: five attempts at most, 0.2 s after the first and twice as long after each next one.
    private func post(_ body: [UInt8], to url: String, headers: [String]) async {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for header in headers {
            guard let colon = header.firstIndex(of: ":") else { continue }
            request.headers.add(
                name: String(header[..<colon]),
                value: String(header[header.index(after: colon)...].drop { $0 == " " }))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        var pause = Duration.milliseconds(200)
        for attempt in 1...Self.postAttempts {
            if let response = try? await client.execute(request, timeout: .seconds(30)) {
                _ = try? await response.body.collect(upTo: 1 << 20)
                guard response.status == .tooManyRequests || response.status.code >= 500 else { return }
            }
            guard attempt < Self.postAttempts, (try? await Task.sleep(for: pause)) != nil else { return }
            pause *= 2
        }
    }

    private static let postAttempts = 5

    /// Closes the client's connections; receipts still due are dropped.
    func shutdown() async {
        try? await client.shutdown()
    }
}
