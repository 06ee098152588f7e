import Testing

@testable import SparrowCore

@Suite struct GatewayDialectTests {
    static let content = SubmitContent(to: "+8613800138000", text: "您好 & bye", id: "c1-0002-8613800138000")
    static let now = Timestamp(secondsSince1970: 1_795_377_600)

    static func dialect(_ format: GatewayDialect.BodyFormat, auth: GatewayDialect.Auth = .none) throws -> GatewayDialect
    {
        GatewayDialect(
            url: "https://sms.example.com/send", format: format, fields: try GatewayDialect.defaultFields(sender: true),
            auth: auth, sender: "10690")
    }

    @Test func jsonBodyWithIdempotencyHeader() throws {
        let request = try Self.dialect(.json).request(for: Self.content, now: Self.now).get()
        #expect(
            String(decoding: request.body, as: UTF8.self)
                == #"{"to":"+8613800138000","text":"您好 & bye","sender":"10690","id":"c1-0002-8613800138000"}"#)
        #expect(request.headers == ["Content-Type: application/json", "Idempotency-Key: c1-0002-8613800138000"])
        #expect(request.url == "https://sms.example.com/send")
    }

    @Test func formAndQueryArePercentEncoded() throws {
        let form = try Self.dialect(.form).request(for: Self.content, now: Self.now).get()
        let encoded = "to=%2B8613800138000&text=%E6%82%A8%E5%A5%BD%20%26%20bye&sender=10690&id=c1-0002-8613800138000"
        #expect(String(decoding: form.body, as: UTF8.self) == encoded)
        let query = try Self.dialect(.query).request(for: Self.content, now: Self.now).get()
        #expect(query.url == "https://sms.example.com/send?" + encoded)
        #expect(query.body.isEmpty)
    }

    @Test func authHeaders() throws {
        let basic = try Self.dialect(.json, auth: .basic(username: "Aladdin", password: "open sesame"))
            .request(for: Self.content, now: Self.now).get()
        #expect(basic.headers.contains("Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="))
        // The lines that are the same for every message come first; the transport keeps them between requests.
        let bearer = try Self.dialect(.json, auth: .bearer(token: "t0k")).request(for: Self.content, now: Self.now)
            .get()
        #expect(
            bearer.headers == [
                "Content-Type: application/json", "Authorization: Bearer t0k", "Idempotency-Key: c1-0002-8613800138000",
            ])
        let signed = try Self.dialect(
            .json, auth: .hmac(secret: "key", header: "X-Signature", timestampHeader: "X-Timestamp")
        )
        .request(for: Self.content, now: Self.now).get()
        let expected = GatewayDialect.signature(secret: "key", timestamp: "1795377600", body: signed.body)
        #expect(
            signed.headers == [
                "Content-Type: application/json", "Idempotency-Key: c1-0002-8613800138000", "X-Timestamp: 1795377600",
                "X-Signature: \(expected)",
            ])
        // RFC 4231 test case 2: HMAC-SHA256("Jefe", "what do ya want for nothing?")
        #expect(
            GatewayDialect.signature(secret: "Jefe", timestamp: "what do ya want ", body: Array("for nothing?".utf8))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func aFieldNeedingAnAbsentValueIsReported() throws {
        var dialect = try Self.dialect(.json)
        dialect.sender = nil
        #expect(dialect.request(for: Self.content, now: Self.now) == .failure(MissingVariable(name: "sender")))
    }

    @Test(arguments: [
        (200, #"{"status":"ok","message_id":"m-1"}"#, AnswerReading.accepted(gatewayID: "m-1")),
        (202, #"{"data":{"id":"x"}}"#, .accepted(gatewayID: nil)),
        (400, #"{"error":"invalid number"}"#, .rejected(status: 400, reason: "invalid number")),
        (500, "oops", .rejected(status: 500, reason: "oops")),
        (503, "", .rejected(status: 503, reason: "HTTP 503")),
    ])
    func readsAnswers(_ status: Int, _ body: String, _ expected: AnswerReading) throws {
        #expect(try Self.dialect(.json).read(status: status, body: Array(body.utf8)) == expected)
    }

    @Test func aSuccessFieldAndNestedPaths() throws {
        var dialect = try Self.dialect(.json)
        dialect.reading = .init(
            successField: ("result.code", "0"), messageIDPath: "result.ids.0", errorPath: "result.msg")
        #expect(
            dialect.read(status: 200, body: Array(#"{"result":{"code":0,"ids":["a7"]}}"#.utf8))
                == .accepted(gatewayID: "a7"))
        #expect(
            dialect.read(status: 200, body: Array(#"{"result":{"code":15,"msg":"blacklisted"}}"#.utf8))
                == .rejected(status: 200, reason: "blacklisted"))
    }

    @Test func concatenationHeaders() {
        #expect(ConcatenationHeader.hex(reference: 0xA7, total: 3, sequence: 1) == "050003A70301")
        let reference = ConcatenationHeader.reference(for: "c1-0002-8613800138000")
        #expect(reference == ConcatenationHeader.reference(for: "c1-0002-8613800138000"))
    }
}
