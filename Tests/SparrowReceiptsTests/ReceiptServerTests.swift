import Foundation
import GRDB
import Glibc
import Logging
import SparrowConfig
import SparrowCore
import SparrowReceipts
import SparrowTestSupport
import SparrowTransport
import Testing

@testable import SparrowStore

/// The webhook's clock in these tests, so that signed requests' timestamps are exact.
let fixedNow = Timestamp(secondsSince1970: 1_800_000_000)

let bearer = ["Authorization: Bearer t0k"]

/// Five gateways: `primary` with the standard receipt mapping, `twilio` naming Twilio's fields, `tencent` posting
/// JSON arrays of receipts and expecting its own answer, `infobip` posting them under `results`, and `aliyun`, an
/// Alibaba Cloud gateway with the receipts and answer of its type.
let webhookYAML = """
    store: unused.sqlite
    gateways:
      - { name: primary, url: "http://127.0.0.1:9/", format: json }
      - name: twilio
        url: "http://127.0.0.1:9/"
        format: form
        receipts: { id: MessageSid, status: MessageStatus, error: ErrorCode }
      - name: tencent
        url: "http://127.0.0.1:9/"
        format: json
        receipts:
          id: sid
          status: report_status
          states: { delivered: SUCCESS, undelivered: FAIL }
          answer: '{"result":0,"errmsg":"OK"}'
      - name: infobip
        url: "http://127.0.0.1:9/"
        format: json
        receipts: { list: results, id: messageId, status: status.groupName, states: { accepted: PENDING } }
      - { name: aliyun, type: aliyun, sign_name: s, access_key_id: i, access_key_secret: k }
    """

/// The webhook for `webhookYAML`'s gateways, with their receipt mappings as the configuration reads them: both
/// kinds of credentials, bodies up to 1 KiB, on a free port.
func webhookConfiguration() throws -> ReceiptServer.Configuration {
    let parsed = try SparrowConfiguration.parse(yaml: webhookYAML, path: "receipts-test.yaml")
    return ReceiptServer.Configuration(
        port: 0, token: Secret("t0k"), hmacSecret: Secret("k3y"), maxBody: 1024,
        gateways: Dictionary(uniqueKeysWithValues: parsed.gateways.map { ($0.name, $0.receipts) }))
}

func makeServer(
    store: SQLiteStore, batchWindow: Duration? = nil, logger: Logger = Logger(label: "test")
) throws -> ReceiptServer {
    var configuration = try webhookConfiguration()
    if let batchWindow { configuration.batchWindow = batchWindow }
    return ReceiptServer(configuration: configuration, store: store, now: { fixedNow }, logger: logger)
}

/// A real SQLite store in a folder of its own, with campaign `c1`: messages 1…`count`, each accepted by
/// `gateway(line)` with the gateway message id `g-LINE`.
func seededStore(messages count: Int, gateway: (Int) -> String = { _ in "primary" }) async throws -> SQLiteStore {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-receipts-\(UUID().uuidString)")
    let store = try SQLiteStore(path: folder.appendingPathComponent("s.sqlite").path)
    try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
    let entries = (1...count).map { line in
        JournalEntry(
            id: "c1-\(line)", campaign: "c1", line: line, to: "+86138\(String(100_000_000 + line).suffix(8))",
            carrier: "china-mobile", gateway: gateway(line), text: "hi", segments: 1, throttleUnits: 1, cost: 0.05,
            sendAt: Timestamp(secondsSince1970: 0), state: .ready)
    }
    _ = try await store.journal(campaign: "c1", messages: entries, skipped: [])
    try await store.record(
        entries.map { entry in
            SubmitRecord(
                id: entry.id, campaign: entry.campaign, recipient: entry.to, state: .accepted, gateway: entry.gateway,
                gatewayMessageID: "g-\(entry.line)", attempts: 1, latency: .milliseconds(3), error: nil,
                at: Timestamp(secondsSince1970: 100))
        })
    return store
}

struct Answer: Equatable {
    var status: Int
    var body: String
}

func post(
    _ transport: CurlTransport, _ url: String, _ body: String, headers: [String], timeout: Duration = .seconds(10)
) async -> Answer {
    await perform(transport, GatewayRequest(url: url, headers: headers, body: Array(body.utf8), timeout: timeout))
}

func get(_ transport: CurlTransport, _ url: String) async -> Answer {
    await perform(transport, GatewayRequest(url: url, method: .get))
}

func perform(_ transport: CurlTransport, _ request: GatewayRequest) async -> Answer {
    switch await transport.perform(request) {
    case .answered(let answer): return Answer(status: answer.status, body: String(decoding: answer.body, as: UTF8.self))
    case .failed(let failure): return Answer(status: 0, body: "\(failure)")
    }
}

/// The headers of a request signed at `timestamp` (Unix seconds).
func signed(_ body: String, at timestamp: Int64 = fixedNow.secondsSince1970, secret: String = "k3y") -> [String] {
    let time = String(timestamp)
    let signature = WebhookAuthenticator.signature(secret: secret, timestamp: time, body: Array(body.utf8))
    return ["X-Sparrow-Timestamp: \(time)", "X-Sparrow-Signature: \(signature)"]
}

@Suite(.timeLimit(.minutes(1))) struct ReceiptServerTests {
    /// A store that cannot take a receipt turns it into a 503, for the gateway to send again, and says why in the
    /// log at `error`: the database's own words, and no number.
    @Test func aStoreFailureIsAnsweredWith503AndLogged() async throws {
        let store = try await seededStore(messages: 1)
        // The writer connection refuses every write from now on, with SQLite's own words for it.
        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA query_only = 1") }
        let capture = LogCapture()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let answer = try await withReceiptServer(try makeServer(store: store, logger: capture.logger)) { base in
            let receipt = #"{"message_id":"g-1","to":"+8613800000001","status":"delivered"}"#
            return await post(transport, base + "/dlr", receipt, headers: bearer)
        }
        #expect(answer.status == 503)
        let errors = capture.events.filter { $0.level == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.metadata["error"]?.contains("readonly") == true, "\(errors)")
        #expect(!"\(capture.events)".contains("8613800000001"))
    }

    @Test func receiptsOnlyMoveMessagesForwardAndAreCounted() async throws {
        let store = try await seededStore(messages: 4) { $0 == 4 ? "twilio" : "primary" }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (statuses, metrics) = try await withReceiptServer(try makeServer(store: store)) { base in
            var statuses: [Int] = []
            for (path, body) in [
                ("/dlr", #"{"message_id":"g-1","to":"+8613800000001","status":"delivered","error":null}"#),
                ("/dlr", #"{"message_id":"g-1","status":"failed","error":"UNDELIV"}"#),  // late: g-1 is delivered
                ("/dlr", #"{"message_id":"g-1","status":"delivered"}"#),  // a duplicate
                ("/dlr/primary", "id=g-2&stat=UNDELIV&err=001"),
                ("/dlr/primary", "id=g-3&stat=ENROUTE"),  // intermediate: answered and counted, not written
                ("/dlr/primary", "id=g-3&stat=EXPIRED"),
                ("/dlr/twilio", "MessageSid=g-4&MessageStatus=delivered"),
                ("/dlr/primary", "id=g-4&stat=UNDELIV"),  // g-4 is twilio's: no match
                ("/dlr", #"{"message_id":"g-9","status":"delivered"}"#),  // no such message
            ] {
                statuses.append(await post(transport, base + path, body, headers: bearer).status)
            }
            return (statuses, await get(transport, base + "/metrics").body)
        }
        #expect(statuses == Array(repeating: 200, count: 9))
        let figures = try await store.figures(campaign: "c1").total
        #expect(figures.delivered == 2)  // g-1, g-4
        #expect(figures.failed == 2)  // g-2 undelivered, g-3 expired
        #expect(figures.pending == 0)
        for (name, value) in [
            (#"sparrow_receipts_received_total{state="accepted"}"#, 1),
            (#"sparrow_receipts_received_total{state="delivered"}"#, 4),
            (#"sparrow_receipts_received_total{state="undelivered"}"#, 3),
            (#"sparrow_receipts_received_total{state="expired"}"#, 1),
            ("sparrow_receipts_applied_total", 4),
            ("sparrow_receipts_duplicate_or_stale_total", 4),
            ("sparrow_receipt_batches_total", 8),  // one request at a time: a batch each
        ] {
            #expect(metric(metrics, name) == value, "\(name)")
        }
    }

    @Test func aListOfReceiptsIsWrittenTogetherAndItsUnreadableItemsAreSkipped() async throws {
        let store = try await seededStore(messages: 6) { $0 <= 3 ? "tencent" : "infobip" }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let requests: [(path: String, body: String)] = [
            ("/dlr/tencent", #"[{"sid":"g-1","report_status":"SUCCESS"},{"sid":"g-2","report_status":"FAIL"}]"#),
            ("/dlr", #"[{"message_id":"g-3","status":"MAYBE"},"g-3",{"message_id":"g-6","status":"delivered"}]"#),
            (
                "/dlr/infobip",
                #"{"results":[{"messageId":"g-4","status":{"groupName":"DELIVERED"}},"#
                    + #"{"messageId":"g-5","status":{"groupName":"PENDING"}}]}"#
            ),
            ("/dlr/tencent", #"[{"sid":"g-3"}]"#),  // nothing readable
            ("/dlr/infobip", #"{"messageId":"g-5","status":{"groupName":"DELIVERED"}}"#),  // not under `results`
            ("/dlr", "[]"),
        ]
        let (answers, metrics) = try await withReceiptServer(try makeServer(store: store)) { base in
            var answers: [Answer] = []
            for request in requests {
                answers.append(await post(transport, base + request.path, request.body, headers: bearer))
            }
            return (answers, await get(transport, base + "/metrics").body)
        }
        #expect(
            answers == [
                Answer(status: 200, body: #"{"result":0,"errmsg":"OK"}"#),  // the gateway's own answer
                Answer(
                    status: 200,
                    body: #"{"status":"ok","receipts":1,"skipped":[{"index":0,"error":"unknown status 'MAYBE'; "#
                        + #"map it in the gateway's receipts.states"},"#
                        + #"{"index":1,"error":"item 1 is not a JSON object"}]}"#),
                Answer(status: 200, body: #"{"status":"ok","receipts":2,"skipped":[]}"#),
                Answer(
                    status: 400,
                    body: #"{"error":"no item could be read; item 0: no status (looked for report_status)"}"#),
                Answer(status: 400, body: #"{"error":"no list of receipts at 'results'"}"#),
                Answer(status: 200, body: #"{"status":"ok","receipts":0,"skipped":[]}"#),
            ])
        let figures = try await store.figures(campaign: "c1").total
        #expect(figures.delivered == 3)  // g-1, g-4, g-6
        #expect(figures.failed == 1)  // g-2
        #expect(figures.pending == 2)  // g-3, g-5 (only an intermediate receipt)
        for (name, value) in [
            ("sparrow_receipt_batches_total", 3),  // a list's receipts share one
            ("sparrow_receipts_applied_total", 4),
            (#"sparrow_receipts_received_total{state="accepted"}"#, 1),
            (#"sparrow_receipts_skipped_total{reason="malformed-body"}"#, 1),
            (#"sparrow_receipts_skipped_total{reason="unknown-status"}"#, 1),
            (#"sparrow_webhook_rejected_total{reason="missing-field"}"#, 1),
            (#"sparrow_webhook_rejected_total{reason="malformed-body"}"#, 1),
        ] {
            #expect(metric(metrics, name) == value, "\(name)")
        }
    }

    @Test func aFloodOfReceiptsIsWrittenInBatches() async throws {
        let count = 300
        let store = try await seededStore(messages: count)
        let transport = CurlTransport(maxInFlight: 64)
        defer { transport.shutdown() }
        let (statuses, metrics) = try await withReceiptServer(try makeServer(store: store)) { base in
            let statuses = await withTaskGroup(of: Int.self) { group in
                for line in 1...count {
                    group.addTask {
                        let body = #"{"message_id":"g-\#(line)","status":"delivered"}"#
                        // 300 at once answer slowly on a busy box (or under ThreadSanitizer): none may time out.
                        return await post(
                            transport, base + "/dlr/primary", body, headers: bearer, timeout: .seconds(45)
                        )
                        .status
                    }
                }
                return await group.reduce(into: [Int: Int]()) { $0[$1, default: 0] += 1 }
            }
            return (statuses, await get(transport, base + "/metrics").body)
        }
        #expect(statuses == [200: count])  // every 200 came after its batch committed …
        #expect(try await store.figures(campaign: "c1").total.delivered == count)  // … so all are in the store
        #expect(metric(metrics, "sparrow_receipts_applied_total") == count)
        let batches = try #require(metric(metrics, "sparrow_receipt_batches_total"))
        // Receipts shared transactions; how many to one depends on the timing (under ThreadSanitizer on a busy box,
        // 2.7), and the batcher's rules are checked exactly, on a test clock, in ReceiptBatcherTests.
        #expect(batches < count / 2, "\(batches) transactions for \(count) receipts")
    }

    /// A batch is written once no receipt request is being read. Here one request stalls halfway through its body,
    /// so the batch of another waits for it, past any window a test could wait for, until the stalled read fails.
    @Test func aBatchWaitsForTheReceiptsStillBeingRead() async throws {
        let store = try await seededStore(messages: 2)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (answer, held, metrics) = try await withReceiptServer(
            try makeServer(store: store, batchWindow: .seconds(3600))
        ) {
            base in
            let stalled = try StalledRequest(base, path: "/dlr/primary", headers: bearer, body: "id=g-1&stat=DELIVRD")
            defer { stalled.close() }  // else the server's shutdown waits for it
            try await poll(base, transport, until: "sparrow_receipts_reading", is: 1)
            // It waits for the stalled read, however long the polls below take (a minute under ThreadSanitizer).
            async let answer = post(
                transport, base + "/dlr/primary", "id=g-2&stat=DELIVRD", headers: bearer, timeout: .seconds(60))
            try await poll(base, transport, until: "sparrow_receipts_queued", is: 1)
            let held = await get(transport, base + "/metrics").body
            stalled.close()  // the stalled read fails, and the batch goes
            let answered = await answer
            // The stalled request is refused just after its read ends, as the batch commits: wait for its count.
            try await poll(base, transport, until: #"sparrow_webhook_rejected_total{reason="unreadable-body"}"#, is: 1)
            return (answered, held, await get(transport, base + "/metrics").body)
        }
        #expect(answer.status == 200)
        #expect(metric(held, "sparrow_receipt_batches_total") == 0)
        #expect(metric(held, "sparrow_receipts_reading") == 1)
        #expect(metric(metrics, "sparrow_receipt_batches_total") == 1)
        #expect(metric(metrics, "sparrow_receipts_reading") == 0)
        #expect(metric(metrics, "sparrow_receipts_queued") == 0)
        let figures = try await store.figures(campaign: "c1").total
        #expect(figures.delivered == 1)  // g-2; g-1's body never came
    }

    /// While requests keep being read, a batch waits for them no longer than its window.
    @Test func aBatchWaitsNoLongerThanItsWindow() async throws {
        let store = try await seededStore(messages: 2)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (answer, metrics) = try await withReceiptServer(
            try makeServer(store: store, batchWindow: .milliseconds(50))
        ) {
            base in
            let stalled = try StalledRequest(base, path: "/dlr/primary", headers: bearer, body: "id=g-1&stat=DELIVRD")
            defer { stalled.close() }  // else the server's shutdown waits for it
            try await poll(base, transport, until: "sparrow_receipts_reading", is: 1)
            let answer = await post(transport, base + "/dlr/primary", "id=g-2&stat=DELIVRD", headers: bearer)
            return (answer, await get(transport, base + "/metrics").body)
        }
        #expect(answer.status == 200)
        #expect(metric(metrics, "sparrow_receipt_batches_total") == 1)
        #expect(metric(metrics, "sparrow_receipts_reading") == 1)  // the stalled request, still being read
        #expect(try await store.figures(campaign: "c1").total.delivered == 1)
    }

    @Test func aReplyWithAnUnsubscribeKeywordSuppressesItsSender() async throws {
        let store = try await seededStore(messages: 1)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (answers, metrics) = try await withReceiptServer(try makeServer(store: store)) { base in
            var answers: [Answer] = []
            for body in [
                "From=%2B8613800138000&Body=%EF%BC%B4%EF%BC%A4&To=10690",  // Twilio style, a full-width "ＴＤ"
                #"{"from":"13900139000","text":"谢谢"}"#,  // a thank-you
                "msisdn=8618612345678&message=%E9%80%80%E8%AE%A2",  // "退订", Kannel style
                #"{"from":"12345","text":"TD"}"#,  // not a phone number
            ] {
                answers.append(await post(transport, base + "/mo", body, headers: bearer))
            }
            return (answers, await get(transport, base + "/metrics").body)
        }
        #expect(answers.map(\.status) == [200, 200, 200, 400])
        #expect(answers[0].body == #"{"status":"ok","unsubscribed":true}"#)
        #expect(answers[1].body == #"{"status":"ok","unsubscribed":false}"#)
        #expect(answers[3].body.hasPrefix(#"{"error":"sender: "#))  // why, but never the number itself
        #expect(try await store.suppressedNumbers() == [8_613_800_138_000, 8_618_612_345_678])
        #expect(metric(metrics, "sparrow_mo_received_total") == 3)
        #expect(metric(metrics, "sparrow_unsubscribes_total") == 2)
        #expect(metric(metrics, #"sparrow_webhook_rejected_total{reason="invalid-sender"}"#) == 1)
    }

    /// Tencent Cloud posts a reply as one object with the country code apart; Alibaba Cloud posts them in lists. At
    /// `/mo/NAME` each is answered as the provider expects.
    @Test func providersRepliesAreReadAsTheyPostThem() async throws {
        let store = try await seededStore(messages: 1)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let answers = try await withReceiptServer(try makeServer(store: store)) { base in
            [
                await post(
                    transport, base + "/mo/tencent",
                    #"{"extend":"","mobile":"13800138000","nationcode":"86","sign":"青禾","text":"TD","time":1795377600}"#,
                    headers: bearer),
                await post(
                    transport, base + "/mo/aliyun",
                    #"[{"phone_number":"13900139000","content":"退订","send_time":"2026-12-06 10:00:00","dest_code":"1","sequence_id":1},"#
                        + #"{"phone_number":"13700137000","content":"谢谢","send_time":"2026-12-06 10:00:01","dest_code":"1","sequence_id":2}]"#,
                    headers: bearer),
                await post(transport, base + "/mo/nowhere", #"{"from":"13800138000","text":"TD"}"#, headers: bearer),
            ]
        }
        #expect(answers.map(\.status) == [200, 200, 404])
        #expect(answers[0].body == #"{"result":0,"errmsg":"OK"}"#)
        #expect(answers[1].body == #"{"code":0,"msg":"接收成功"}"#)
        #expect(try await store.suppressedNumbers() == [8_613_800_138_000, 8_613_900_139_000])
    }

    @Test func requestsWithoutValidCredentialsNeverReachTheStore() async throws {
        let store = try await seededStore(messages: 1)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let body = #"{"message_id":"g-1","status":"delivered"}"#
        let requests: [(headers: [String], status: Int)] = [
            ([], 401),
            (["Authorization: Bearer nope"], 401),
            (signed(body, secret: "wrong"), 401),
            (signed("{}"), 401),  // the signature of another body
            (signed(body, at: fixedNow.secondsSince1970 - 301), 401),  // replayed after the window
            (signed(body, at: fixedNow.secondsSince1970 + 301), 401),
            (bearer, 200),
            (signed(body, at: fixedNow.secondsSince1970 - 300), 200),
        ]
        let (answers, metrics) = try await withReceiptServer(try makeServer(store: store)) { base in
            var answers: [Answer] = []
            for request in requests {
                answers.append(await post(transport, base + "/dlr", body, headers: request.headers))
            }
            return (answers, await get(transport, base + "/metrics").body)
        }
        #expect(answers.map(\.status) == requests.map(\.status))
        #expect(answers[0].body == #"{"error":"credentials needed: a bearer token or a signature"}"#)
        #expect(answers[4].body == #"{"error":"the timestamp is more than 300 s from now"}"#)
        #expect(try await store.figures(campaign: "c1").total.delivered == 1)
        for (name, value) in [
            (#"sparrow_receipts_received_total{state="delivered"}"#, 2),  // only the admitted two were read …
            ("sparrow_receipt_batches_total", 2),  // … and written
            (#"sparrow_webhook_rejected_total{reason="missing-credentials"}"#, 1),
            (#"sparrow_webhook_rejected_total{reason="bad-token"}"#, 1),
            (#"sparrow_webhook_rejected_total{reason="bad-signature"}"#, 2),
            (#"sparrow_webhook_rejected_total{reason="stale-timestamp"}"#, 2),
        ] {
            #expect(metric(metrics, name) == value, "\(name)")
        }
    }

    @Test func oversizedAndMalformedBodiesAreRefused() async throws {
        let store = try await seededStore(messages: 1)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let padding = String(repeating: "x", count: 2000)
        let requests: [(path: String, body: String, status: Int)] = [
            ("/dlr", #"{"message_id":"g-1","status":"delivered","pad":"\#(padding)"}"#, 413),
            ("/mo", "From=%2B8613800138000&Body=TD&pad=\(padding)", 413),
            ("/dlr", #"{"message_id":"#, 400),
            ("/dlr", #"{"message_id":"g-1","status":"BOGUS"}"#, 400),
            ("/dlr", #"{"status":"delivered"}"#, 400),
            ("/dlr/nowhere", #"{"message_id":"g-1","status":"delivered"}"#, 404),
        ]
        let (answers, metrics) = try await withReceiptServer(try makeServer(store: store)) { base in
            var answers: [Answer] = []
            for request in requests {
                answers.append(await post(transport, base + request.path, request.body, headers: bearer))
            }
            return (answers, await get(transport, base + "/metrics").body)
        }
        #expect(answers.map(\.status) == requests.map(\.status))
        #expect(answers[3].body == #"{"error":"unknown status 'BOGUS'; map it in the gateway's receipts.states"}"#)
        #expect(answers[4].body == #"{"error":"no message id (looked for message_id, MessageSid, id)"}"#)
        #expect(try await store.figures(campaign: "c1").total.delivered == 0)
        #expect(try await store.suppressedNumbers().isEmpty)
        for (name, value) in [
            ("sparrow_receipt_batches_total", 0),
            (#"sparrow_webhook_rejected_total{reason="too-large"}"#, 2),
            (#"sparrow_webhook_rejected_total{reason="malformed-body"}"#, 1),
            (#"sparrow_webhook_rejected_total{reason="unknown-status"}"#, 1),
            (#"sparrow_webhook_rejected_total{reason="missing-field"}"#, 1),
            (#"sparrow_webhook_rejected_total{reason="unknown-gateway"}"#, 1),
        ] {
            #expect(metric(metrics, name) == value, "\(name)")
        }
    }

    @Test func aCallerOverItsRateIsRefusedBeforeTheBodyIsRead() async throws {
        let store = try await seededStore(messages: 3)
        var configuration = try webhookConfiguration()
        (configuration.clientRate, configuration.clientBurst) = (0.01, 2)  // two now, the next in 100 s
        let clock = TestClock()  // still: the bucket refills not at all during the test
        let server = ReceiptServer(configuration: configuration, store: store, now: { fixedNow }, clock: clock)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (answers, retryAfter, metrics) = try await withReceiptServer(server) { base in
            var answers: [Answer] = []
            for line in 1...3 {
                answers.append(
                    await post(
                        transport, base + "/dlr", #"{"message_id":"g-\#(line)","status":"delivered"}"#, headers: bearer)
                )
            }
            let refused = await transport.perform(
                GatewayRequest(url: base + "/mo", headers: bearer, body: Array("From=1&Body=TD".utf8)))
            guard case .answered(let answer) = refused else { return (answers, nil as String?, "") }
            answers.append(Answer(status: answer.status, body: String(decoding: answer.body, as: UTF8.self)))
            return (answers, answer.retryAfter, await get(transport, base + "/metrics").body)
        }
        #expect(answers.map(\.status) == [200, 200, 429, 429])
        #expect(answers[2].body == #"{"error":"too many requests from this address"}"#)
        // The wait for the next token, exactly: the clock has not moved since the bucket emptied.
        #expect(retryAfter?.trimmingCharacters(in: .whitespacesAndNewlines) == "100")
        #expect(try await store.figures(campaign: "c1").total.delivered == 2)  // the third never reached the store
        #expect(try await store.suppressedNumbers().isEmpty)
        #expect(metric(metrics, #"sparrow_webhook_rejected_total{reason="rate-limited"}"#) == 2)
    }

    @Test func healthNeedsNoCredentials() async throws {
        let store = try await seededStore(messages: 1)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (health, metrics) = try await withReceiptServer(try makeServer(store: store)) { base in
            (await get(transport, base + "/health"), await get(transport, base + "/metrics"))
        }
        #expect(health == Answer(status: 200, body: #"{"status":"ok"}"#))
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("# TYPE sparrow_receipts_received_total counter\n"))
        #expect(metric(metrics.body, "sparrow_receipts_applied_total") == 0)
    }
}

/// Polls the webhook's metrics until the sample `name` has `value`, for 10 s at most.
func poll(_ base: String, _ transport: CurlTransport, until name: String, is value: Int) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while metric(await get(transport, base + "/metrics").body, name) != value {
        guard ContinuousClock.now < deadline else { throw StalledRequest.Failure("\(name) never reached \(value)") }
        try await Task.sleep(for: .milliseconds(5))
    }
}

/// A caller that sends a POST's head and half of its body on a connection of its own, and sends no more until it
/// closes the connection.
final class StalledRequest {
    private var socket: Int32

    /// - Parameter base: `http://127.0.0.1:PORT`.
    init(_ base: String, path: String, headers: [String], body: String) throws {
        guard let port = base.split(separator: ":").last.flatMap({ UInt16($0) }) else {
            throw Failure("no port in \(base)")
        }
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw Failure("cannot connect to \(base)") }
        let head = (["POST \(path) HTTP/1.1", "Host: 127.0.0.1", "Content-Length: \(body.utf8.count)"] + headers)
            .joined(separator: "\r\n")
        let sent = Array((head + "\r\n\r\n" + body.prefix(body.count / 2)).utf8)
        guard Glibc.send(socket, sent, sent.count, 0) == sent.count else { throw Failure("cannot send to \(base)") }
    }

    deinit {
        close()
    }

    /// Closes the connection; once closed, does nothing.
    func close() {
        guard socket >= 0 else { return }
        Glibc.close(socket)
        socket = -1
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
