import Foundation
import SparrowCore
import SparrowTransport

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

        public init(
            url: String, token: String? = nil, delay: Duration = .seconds(1), jitter: Duration = .zero,
            delivered: Double = 0.95, failed: Double = 0.04, duplicates: Double = 0
        ) {
            self.url = url
            self.token = token
            self.delay = delay
            self.jitter = jitter
            self.delivered = delivered
            self.failed = failed
            self.duplicates = duplicates
        }
    }
}

/// Posts the receipts of one simulator run through Sparrow's own transport.
final class ReceiptSender: Sendable {
    private let plan: GatewaySimulator.Receipts
    private let transport = CurlTransport(maxInFlight: 16)

    init(_ plan: GatewaySimulator.Receipts) {
        self.plan = plan
    }

    /// Sends the receipt of `messageID` later, as JSON or as a Twilio-style form; `draw` gives uniform numbers in
    /// [0, 1).
    func schedule(messageID: String, to: String?, form: Bool, draw: @Sendable () -> Double) {
        let state = draw()
        let status = state < plan.delivered ? "delivered" : state < plan.delivered + plan.failed ? "failed" : "expired"
        let copies = draw() < plan.duplicates ? 2 : 1
        var headers: [String]
        let body: [UInt8]
        if form {
            // Twilio has no "expired": an undeliverable message ends "undelivered", a refused one "failed".
            let twilioStatus = status == "expired" ? "undelivered" : status
            var pairs = [("MessageSid", messageID), ("MessageStatus", twilioStatus)]
            if let to { pairs.append(("To", to)) }
            if status != "delivered" { pairs.append(("ErrorCode", "30008")) }
            body = Array(FormEncoding.encode(pairs).utf8)
            headers = ["Content-Type: application/x-www-form-urlencoded"]
        } else {
            var json = JSONWriter()
            json.object { receipt in
                receipt.field("message_id", messageID)
                receipt.field("to", to)
                receipt.field("status", status)
                receipt.field("error", status == "failed" ? "UNDELIV" : nil)
            }
            body = json.bytes
            headers = ["Content-Type: application/json"]
        }
        if let token = plan.token { headers.append("Authorization: Bearer \(token)") }
        let request = GatewayRequest(url: plan.url, headers: headers, body: body)
        for _ in 0..<copies {
            let wait = plan.delay + plan.jitter * draw()
            Task { [transport] in
                try await Task.sleep(for: wait)
                _ = await transport.perform(request)
            }
        }
    }

    func shutdown() {
        transport.shutdown()
    }
}
