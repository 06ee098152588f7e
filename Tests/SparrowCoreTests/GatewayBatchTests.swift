import Testing

@testable import SparrowCore

@Suite struct GatewayBatchTests {
    static let now = Timestamp(secondsSince1970: 1_795_377_600)
    static let contents = [
        SubmitContent(to: "+8613800138000", text: "双12 五折", id: "c1-1"),
        SubmitContent(to: "+8613900139000", text: "双12 五折", id: "c1-2"),
    ]

    static func dialect(
        _ format: GatewayDialect.BodyFormat, fields: [(String, String)], batch: GatewayDialect.Batch
    ) throws -> GatewayDialect {
        GatewayDialect(
            url: "https://sms.example.com/batch", format: format,
            fields: try fields.map { ($0.0, try MessageTemplate($0.1)) }, auth: .bearer(token: "t0k"),
            sender: "Qinghe", batch: batch)
    }

    static func body(_ request: EncodedRequest) -> String { String(decoding: request.body, as: UTF8.self) }

    @Test func oneTextGoesToAListOfNumbersWithoutAnIdempotencyKey() throws {
        let dialect = try Self.dialect(
            .json, fields: [("from", "{{sender}}"), ("body", "{{text}}")], batch: .init(max: 1000, list: "to"))
        let request = try dialect.request(batch: Self.contents, now: Self.now).get()
        #expect(Self.body(request) == #"{"from":"Qinghe","body":"双12 五折","to":["+8613800138000","+8613900139000"]}"#)
        // After a crash the same messages may be grouped otherwise: a batch carries no key.
        #expect(request.headers == ["Content-Type: application/json", "Authorization: Bearer t0k"])
    }

    @Test func aFormJoinsTheNumbers() throws {
        let dialect = try Self.dialect(
            .form, fields: [("apikey", "k"), ("text", "{{text}}")],
            batch: .init(max: 1000, list: "mobile", grouping: .sameText(separator: ",")))
        let request = try dialect.request(batch: Self.contents, now: Self.now).get()
        #expect(
            Self.body(request)
                == "apikey=k&text=%E5%8F%8C12%20%E4%BA%94%E6%8A%98&mobile=%2B8613800138000%2C%2B8613900139000")
    }

    @Test func recipientsAsObjectsNestedByPath() throws {
        var batch = GatewayDialect.Batch(max: 1000, list: "messages.0.destinations")
        batch.recipient = [("to", try MessageTemplate("{{to}}")), ("messageId", try MessageTemplate("{{id}}"))]
        let dialect = try Self.dialect(
            .json, fields: [("messages.0.from", "{{sender}}"), ("messages.0.text", "{{text}}")], batch: batch)
        let request = try dialect.request(batch: Self.contents, now: Self.now).get()
        #expect(
            Self.body(request)
                == #"{"messages":[{"from":"Qinghe","text":"双12 五折","destinations":"#
                + #"[{"to":"+8613800138000","messageId":"c1-1"},{"to":"+8613900139000","messageId":"c1-2"}]}]}"#)
    }

    @Test func anyTextsGoAsOneObjectEach() throws {
        let dialect = try Self.dialect(
            .json, fields: [("to", "{{to}}"), ("content", "{{text}}")],
            batch: .init(max: 100, list: "messages", grouping: .anyText))
        var contents = Self.contents
        contents[1].text = "您好"
        let request = try dialect.request(batch: contents, now: Self.now).get()
        #expect(
            Self.body(request)
                == #"{"messages":[{"to":"+8613800138000","content":"双12 五折"},{"to":"+8613900139000","content":"您好"}]}"#)
    }

    @Test func aMissingVariableIsReported() throws {
        let dialect = try Self.dialect(
            .json, fields: [("to", "{{to}}"), ("shop", "{{shop}}")],
            batch: .init(max: 100, list: "messages", grouping: .anyText))
        #expect(throws: MissingVariable(name: "shop")) {
            try dialect.request(batch: Self.contents, now: Self.now).get()
        }
    }

    static let results = GatewayDialect.Results(
        path: "results", number: "to",
        reading: .init(successField: (path: "status", equals: "ok"), messageIDPath: "id", errorPath: "error"))

    static func reading(_ results: GatewayDialect.Results?, status: Int = 200, _ body: String) throws
        -> GatewayDialect.BatchReading
    {
        var batch = GatewayDialect.Batch(max: 1000, list: "to")
        batch.results = results
        return try dialect(.json, fields: [("text", "{{text}}")], batch: batch)
            .read(status: status, body: Array(body.utf8), batch: contents)
    }

    @Test func resultsAreMatchedByNumberWhateverTheirOrderAndFormat() throws {
        // The gateway lists the second number first, without its '+', and refuses it.
        let answer =
            #"{"results":[{"to":"8613900139000","status":"error","error":"blacklisted"},"#
            + #"{"to":"+86 138 0013 8000","status":"ok","id":"g-1"}]}"#
        #expect(
            try Self.reading(Self.results, answer)
                == .each([.accepted(gatewayID: "g-1"), .rejected(status: 200, reason: "blacklisted")]))
    }

    @Test func aNumberWithoutAResultHasNoReading() throws {
        let answer = #"{"results":[{"to":"+8613800138000","status":"ok","id":"g-1"}]}"#
        #expect(try Self.reading(Self.results, answer) == .each([.accepted(gatewayID: "g-1"), nil]))
    }

    @Test func withoutANumberPathResultsFollowTheRequestsOrder() throws {
        var results = Self.results
        results.number = nil
        let answer = #"{"results":[{"status":"ok","id":"g-1"},{"status":"nope"}]}"#
        #expect(
            try Self.reading(results, answer)
                == .each([.accepted(gatewayID: "g-1"), .rejected(status: 200, reason: "refused")]))
    }

    @Test func aRefusalOrAnAnswerWithoutResultsIsAboutTheWholeRequest() throws {
        #expect(
            try Self.reading(Self.results, status: 429, #"{"error":"slow down"}"#)
                == .whole(.rejected(status: 429, reason: "slow down")))
        #expect(
            try Self.reading(Self.results, #"{"error":"template not approved"}"#)
                == .whole(.rejected(status: 200, reason: "template not approved")))
        #expect(
            try Self.reading(Self.results, "OK")
                == .whole(.rejected(status: 200, reason: "the answer lists no result per message")))
        // A gateway that lists no results: its one answer stands for every message.
        #expect(try Self.reading(nil, #"{"message_id":"b-9"}"#) == .whole(.accepted(gatewayID: "b-9")))
    }
}
