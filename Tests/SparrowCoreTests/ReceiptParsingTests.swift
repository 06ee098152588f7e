import SparrowCore
import Testing

func webhookFields(_ body: String, query: String? = nil) throws(ReceiptError) -> WebhookFields {
    try WebhookFields(body: Array(body.utf8), query: query)
}

@Suite struct DeliveryReceiptTests {
    static let standardBodies: [(String, String, ReceiptStatus, String?)] = [
        // gateway-sim's receipts
        (#"{"message_id":"sim-1","to":"+8613800138000","status":"delivered","error":null}"#, "sim-1", .delivered, nil),
        (#"{"message_id":"sim-2","status":"failed","error":"UNDELIV"}"#, "sim-2", .undelivered, "UNDELIV"),
        (#" {"message_id":"sim-3","status":"expired"}"#, "sim-3", .expired, nil),
        (#"{"message_id":42,"status":"Delivered"}"#, "42", .delivered, nil),  // a number id, a capitalised word
        // Twilio status callbacks (form)
        ("MessageSid=SM1&MessageStatus=delivered&To=%2B8613800138000", "SM1", .delivered, nil),
        ("MessageSid=SM2&MessageStatus=undelivered&ErrorCode=30003", "SM2", .undelivered, "30003"),
        ("MessageSid=SM3&MessageStatus=failed&ErrorCode=30008", "SM3", .undelivered, "30008"),
        ("MessageSid=SM4&MessageStatus=sent&ErrorCode=", "SM4", .accepted, nil),  // an empty field is absent
        ("MessageSid=SM5&MessageStatus=queued", "SM5", .accepted, nil),
        // SMPP states, Jasmin-style fields
        ("id=a1&message_status=DELIVRD&err=000", "a1", .delivered, "000"),
        ("id=a2&message_status=UNDELIV&err=001", "a2", .undelivered, "001"),
        ("id=a3&stat=EXPIRED", "a3", .expired, nil),
        ("id=a4&stat=REJECTD", "a4", .undelivered, nil),
        ("id=a5&stat=ACCEPTD", "a5", .accepted, nil),
        ("id=a6&stat=ENROUTE", "a6", .accepted, nil),
        ("id=a%2B7&stat=+delivrd+", "a+7", .delivered, nil),  // `+` is a space, `%2B` a plus; the word is trimmed
    ]

    @Test(arguments: standardBodies)
    func theStandardMappingReads(_ body: String, id: String, status: ReceiptStatus, error: String?) throws {
        let receipt = try DeliveryReceipt(webhookFields(body), mapping: .standard)
        #expect(receipt == DeliveryReceipt(gatewayMessageID: id, status: status, error: error))
    }

    @Test func queryFieldsCountAfterTheBody() throws {
        let receipt = try DeliveryReceipt(webhookFields("", query: "id=k1&stat=DELIVRD"), mapping: .standard)
        #expect(receipt == DeliveryReceipt(gatewayMessageID: "k1", status: .delivered))
        #expect(try webhookFields("id=body", query: "id=query")["id"] == "body")
    }

    @Test func aGatewayMappingNamesItsFieldsAndWords() throws {
        let mapping = ReceiptMapping(
            idFields: ["data.id"], statusFields: ["data.state"], errorFields: ["data.reason"],
            words: [.delivered: ["OK"], .undelivered: ["KO", "delivrd"]])
        let receipt = try DeliveryReceipt(
            webhookFields(#"{"data":{"id":"x9","state":"ok","reason":"none"},"status":"expired"}"#), mapping: mapping)
        #expect(receipt == DeliveryReceipt(gatewayMessageID: "x9", status: .delivered, error: "none"))
        #expect(mapping.status(of: "expired") == .expired)  // the standard words still apply …
        #expect(mapping.status(of: "DELIVRD") == .undelivered)  // … unless the gateway says otherwise
        #expect(mapping.status(of: " ｄｅｌｉｖｅｒｅｄ ") == .delivered)  // full-width, padded
        #expect(mapping != .standard)
    }

    @Test(arguments: [
        (#"{"message_id":"x","status":"BOGUS"}"#, ReceiptError.Code.unknownStatus),
        (#"{"status":"delivered"}"#, .missingField),
        (#"{"message_id":"x"}"#, .missingField),
        (#"{"message_id":"x","status":null}"#, .missingField),
        ("", .missingField),
        (#"{"message_id":"#, .malformedBody),
        (#"["delivered"]"#, .malformedBody),
        ("id=x&stat=%ZZ", .malformedBody),
        ("id=%FF&stat=DELIVRD", .malformedBody),  // not UTF-8
    ])
    func faultsAreNamed(_ body: String, code: ReceiptError.Code) {
        do throws(ReceiptError) {
            let receipt = try DeliveryReceipt(webhookFields(body), mapping: .standard)
            Issue.record("read \(receipt) from \(body)")
        } catch {
            #expect(error.code == code, "\(error)")
        }
    }

    @Test func anUnknownWordIsNamedInTheMessage() {
        let expected = ReceiptError(.unknownStatus, "unknown status 'BOGUS'; map it in the gateway's receipts.states")
        #expect(throws: expected) {
            _ = try DeliveryReceipt(webhookFields(#"{"message_id":"x","status":"BOGUS"}"#), mapping: .standard)
        }
    }
}

@Suite struct ReceiptListTests {
    /// Tencent Cloud's status callbacks: a JSON array of reports.
    static let tencent = ReceiptMapping(
        idFields: ["sid"], statusFields: ["report_status"], errorFields: ["errmsg"],
        words: [.delivered: ["SUCCESS"], .undelivered: ["FAIL"]])

    func receipts(_ body: String, query: String? = nil, mapping: ReceiptMapping) throws(ReceiptError)
        -> [Result<DeliveryReceipt, ReceiptError>]
    {
        guard case .list(let items) = try DeliveryReceipts(body: Array(body.utf8), query: query, mapping: mapping)
        else {
            Issue.record("\(body) read as one receipt")
            return []
        }
        return items
    }

    @Test func aJSONArrayIsReadItemByItem() throws {
        let items = try receipts(
            #"""
            [{"mobile":"13800138000","report_status":"SUCCESS","errmsg":"DELIVRD","sid":"s-1"},
             {"report_status":"FAIL","errmsg":"MK:0001","sid":"s-2"},
             "s-3",
             {"report_status":"MAYBE","sid":"s-4"},
             {"sid":"s-5"}]
            """#, mapping: Self.tencent)
        #expect(try items[0].get() == DeliveryReceipt(gatewayMessageID: "s-1", status: .delivered, error: "DELIVRD"))
        #expect(try items[1].get() == DeliveryReceipt(gatewayMessageID: "s-2", status: .undelivered, error: "MK:0001"))
        #expect(items.count == 5)
        for (index, code) in [(2, ReceiptError.Code.malformedBody), (3, .unknownStatus), (4, .missingField)] {
            #expect(throws: ReceiptError.self) { try items[index].get() }
            if case .failure(let error) = items[index] { #expect(error.code == code, "item \(index): \(error)") }
        }
        #expect(try receipts("[]", mapping: Self.tencent).isEmpty)
    }

    /// Alibaba Cloud's status reports: a JSON array, the outcome a boolean.
    @Test func aBooleanStatusReadsAsAWord() throws {
        let alibaba = ReceiptMapping(
            idFields: ["biz_id"], statusFields: ["success"], errorFields: ["err_code"],
            words: [.delivered: ["true"], .undelivered: ["false"]])
        let items = try receipts(
            #"[{"success":true,"err_code":"DELIVERED","biz_id":"b1"},"#
                + #"{"success":false,"err_code":"MK:0001","biz_id":"b2"}]"#,
            mapping: alibaba)
        #expect(
            try items.map { try $0.get() } == [
                DeliveryReceipt(gatewayMessageID: "b1", status: .delivered, error: "DELIVERED"),
                DeliveryReceipt(gatewayMessageID: "b2", status: .undelivered, error: "MK:0001"),
            ])
    }

    @Test func theQueryCountsForEveryItem() throws {
        let items = try receipts(
            #"[{"sid":"a"},{"sid":"b","report_status":"FAIL"}]"#, query: "report_status=SUCCESS",
            mapping: Self.tencent)
        #expect(try items.map { try $0.get().status } == [.delivered, .undelivered])
    }

    @Test func aListPathFindsTheArrayInAnObject() throws {
        let infobip = ReceiptMapping(idFields: ["messageId"], statusFields: ["status.groupName"], listPath: "results")
        let items = try receipts(
            #"{"results":[{"messageId":"m1","status":{"groupName":"DELIVERED"}},"#
                + #"{"messageId":"m2","status":{"groupName":"REJECTED"}}]}"#,
            mapping: infobip)
        #expect(
            try items.map { try $0.get() } == [
                DeliveryReceipt(gatewayMessageID: "m1", status: .delivered),
                DeliveryReceipt(gatewayMessageID: "m2", status: .undelivered),
            ])
        // a top-level array needs no path
        #expect(try receipts(#"[{"messageId":"m3","status":{"groupName":"EXPIRED"}}]"#, mapping: infobip).count == 1)
        for body in [#"{"messageId":"m4","status":{"groupName":"DELIVERED"}}"#, #"{"results":{"messageId":"m4"}}"#] {
            #expect(throws: ReceiptError(.malformedBody, "no list of receipts at 'results'")) {
                _ = try DeliveryReceipts(body: Array(body.utf8), mapping: infobip)
            }
        }
    }

    @Test func oneObjectIsOneReceipt() throws {
        let body = #"{"sid":"s-1","report_status":"SUCCESS"}"#
        let receipts = try DeliveryReceipts(body: Array(body.utf8), mapping: Self.tencent)
        guard case .one(let receipt) = receipts else {
            Issue.record("\(receipts)")
            return
        }
        #expect(receipt == DeliveryReceipt(gatewayMessageID: "s-1", status: .delivered))
        #expect(throws: ReceiptError(.unknownStatus, "unknown status 'X'; map it in the gateway's receipts.states")) {
            _ = try DeliveryReceipts(body: Array("sid=s-1&report_status=X".utf8), mapping: Self.tencent)
        }
    }
}

@Suite struct InboundReplyTests {
    @Test(arguments: [
        ("From=%2B8613800138000&Body=TD&To=10690", "+8613800138000", "TD"),  // Twilio
        (#"{"from":"13800138000","text":"退订"}"#, "+8613800138000", "退订"),  // national, default region
        ("msisdn=8613800138000&message=T", "+8613800138000", "T"),  // Kannel/Jasmin style, no plus
        (#"{"sender":"+1 650 253 0000"}"#, "+16502530000", ""),  // no text
    ])
    func aReplyReadsItsSenderAndText(_ body: String, e164: String, text: String) throws {
        let reply = try InboundReply(webhookFields(body), defaultRegion: "CN")
        #expect(reply.sender.e164 == e164)
        #expect(reply.text == text)
    }

    @Test func aReplyWithoutAValidSenderIsRefused() {
        #expect(
            throws: ReceiptError(
                .missingField, "no sender (looked for from, From, msisdn, sender, mobile, phone_number)")
        ) {
            _ = try InboundReply(webhookFields("Body=TD"), defaultRegion: "CN")
        }
        do throws(ReceiptError) {
            _ = try InboundReply(webhookFields("From=12345&Body=TD"), defaultRegion: "CN")
            Issue.record("12345 is not a number")
        } catch {
            #expect(error.code == .invalidSender)
            #expect(!error.message.contains("12345"))  // numbers never appear in messages
        }
    }

    @Test(arguments: [
        ("TD", true), ("td", true), (" Td \n", true), ("ＴＤ", true), ("ｔ", true), ("退订", true),
        ("\u{3000}退订\u{3000}", true), ("Stop", true), ("unsubscribe", true),
        ("STOP please", false), ("T恤", false), ("TDD", false), ("谢谢", false), ("", false), ("退订。", false),
    ])
    func theDefaultKeywords(_ text: String, unsubscribes: Bool) {
        #expect(UnsubscribeKeywords().matches(text) == unsubscribes)
    }

    @Test func configuredKeywordsReplaceTheDefaults() {
        let keywords = UnsubscribeKeywords(["取消", "Quit"])
        #expect(keywords.matches("QUIT") && keywords.matches(" 取消"))
        #expect(!keywords.matches("TD"))
    }
}

@Suite struct WebhookAuthenticatorTests {
    static let now = Timestamp(secondsSince1970: 1_800_000_000)
    static let body = Array(#"{"message_id":"g-1","status":"delivered"}"#.utf8)

    @Test func theSignatureIsHMACSHA256OfTimestampDotBody() {
        // The reference values come from Python:
        // hmac.new(b"k3y", b"1800000000." + body, hashlib.sha256).hexdigest()
        #expect(
            WebhookAuthenticator.signature(secret: "k3y", timestamp: "1800000000", body: Self.body)
                == "bf7d38e71fdc58dd2c670c42c5bde269b5f73148ef3e2b7be9c87354bc4e4185")
        #expect(
            WebhookAuthenticator.signature(secret: "k3y", timestamp: "1800000000", body: Array("{}".utf8))
                == "2197f9ac2aaca8d29f3db503d8dccaf6604fceed9fb7fbcc3fe93dcf2fde5bd4")
    }

    static let signed = WebhookAuthenticator.signature(secret: "k3y", timestamp: "1800000000", body: body)

    /// Authorization, timestamp and signature headers, and the refusal's code (nil: admitted).
    static let requests: [(String?, String?, String?, String?)] = [
        ("Bearer t0k", nil, nil, nil),
        ("bearer t0k", nil, nil, nil),
        ("Bearer nope", nil, nil, "bad-token"),
        ("Basic dDBrOg==", nil, nil, "bad-token"),
        ("Bearer", nil, nil, "bad-token"),
        (nil, nil, nil, "missing-credentials"),
        (nil, "1800000000", signed, nil),
        (nil, "1800000000", signed.uppercased(), nil),  // hex in either case
        ("Bearer nope", "1800000000", signed, nil),  // a signature is checked first
        (nil, "1800000300", signed, "bad-signature"),  // within the window, but not what was signed
        (nil, "1800000000", String(signed.dropLast()), "bad-signature"),
        (nil, "1800000000", "zz" + String(signed.dropFirst(2)), "bad-signature"),  // not hex
        (nil, "1799999699", signed, "stale-timestamp"),  // 301 s old
        (nil, "1800000301", signed, "stale-timestamp"),  // 301 s ahead
        (nil, "soon", signed, "stale-timestamp"),
        (nil, nil, signed, "stale-timestamp"),
    ]

    @Test(arguments: requests)
    func credentials(_ authorization: String?, timestamp: String?, signature: String?, refusal: String?) {
        let authenticator = WebhookAuthenticator(token: "t0k", hmacSecret: "k3y")
        do throws(WebhookAuthenticator.Refusal) {
            try authenticator.check(
                authorization: authorization, timestamp: timestamp, signature: signature, body: Self.body,
                now: Self.now)
            #expect(refusal == nil)
        } catch {
            #expect(error.code.description == refusal)
        }
    }

    @Test func theWindowIsInclusive() throws {
        let authenticator = WebhookAuthenticator(token: nil, hmacSecret: "k3y")
        for timestamp in ["1799999700", "1800000300"] {
            let signature = WebhookAuthenticator.signature(secret: "k3y", timestamp: timestamp, body: Self.body)
            try authenticator.check(
                authorization: nil, timestamp: timestamp, signature: signature, body: Self.body, now: Self.now)
        }
    }

    @Test func withoutCredentialsConfiguredEveryRequestIsAdmitted() throws {
        try WebhookAuthenticator(token: nil, hmacSecret: nil).check(
            authorization: nil, timestamp: nil, signature: nil, body: [], now: Self.now)
    }

    @Test func onlyTheConfiguredKindIsAccepted() {
        #expect(throws: WebhookAuthenticator.Refusal.self) {
            try WebhookAuthenticator(token: nil, hmacSecret: "k3y").check(
                authorization: "Bearer t0k", timestamp: nil, signature: nil, body: Self.body, now: Self.now)
        }
    }
}
