import SparrowCore
import Testing

@testable import SparrowConfig

/// The shipped batch dialects, each building the request its provider documents for two messages of one text.
@Suite struct BatchConfigurationTests {
    static let contents = [
        SubmitContent(to: "+8613800138000", text: "双12 五折", id: "c1-1"),
        SubmitContent(to: "+8613900139000", text: "双12 五折", id: "c1-2"),
    ]

    /// The gateway of `file`, included with `extra` keys, and the body it builds for `contents`.
    static func body(_ file: String, _ extra: String = "") throws -> (SparrowConfiguration.Gateway, String) {
        let configuration = try load(
            """
            store: x
            gateways:
              - include: \(repositoryRoot)/config/gateways/\(file)
                name: bulk
                url: "https://sms.example.com/batch"
                sender: Qinghe
            \(extra)
            """,
            environment: [
                "SMS_TOKEN": "t", "SINCH_TOKEN": "t", "INFOBIP_API_KEY": "k", "YUNPIAN_APIKEY": "k", "JASMIN_USER": "u",
                "JASMIN_PASSWORD": "p",
            ])
        let gateway = try #require(configuration.gateways.first)
        let request = try gateway.dialect.request(batch: contents, now: Timestamp(secondsSince1970: 0)).get()
        return (gateway, String(decoding: request.body, as: UTF8.self))
    }

    @Test func genericJSON() throws {
        let (gateway, body) = try Self.body("generic-json-batch.yaml")
        #expect(body == #"{"text":"双12 五折","to":["+8613800138000","+8613900139000"]}"#)
        #expect(gateway.dialect.batch?.max == 500)
        #expect(gateway.dialect.batch?.linger == .milliseconds(20))
        #expect(!gateway.retry.honoursIdempotencyKey)
    }

    @Test func sinchBatches() throws {
        let (gateway, body) = try Self.body("sinch-batches.yaml")
        #expect(body == #"{"from":"Qinghe","body":"双12 五折","to":["+8613800138000","+8613900139000"]}"#)
        // One batch id for both numbers: each message is named by it and its number, and so are its receipts.
        let answer = Array(#"{"id":"01FC66621X","to":["8613800138000","8613900139000"]}"#.utf8)
        #expect(
            gateway.dialect.read(status: 201, body: answer, batch: Self.contents)
                == .whole(.accepted(gatewayID: "01FC66621X")))
        let report =
            #"{"type":"recipient_delivery_report_sms","batch_id":"01FC66621X","recipient":"+8613900139000","#
            + #""status":"Delivered","code":0}"#
        let receipt = try DeliveryReceipt(WebhookFields(body: Array(report.utf8)), mapping: gateway.receipts)
        #expect(receipt.gatewayMessageID == GatewayDialect.batchMessageID(batch: "01FC66621X", number: "8613900139000"))
        #expect(receipt.gatewayMessageID == "01FC66621X/8613900139000")
        #expect(receipt.status == .delivered)
    }

    @Test func infobipAdvanced() throws {
        let (gateway, body) = try Self.body("infobip-advanced.yaml")
        #expect(
            body
                == #"{"messages":[{"from":"Qinghe","text":"双12 五折","destinations":"#
                + #"[{"to":"+8613800138000","messageId":"c1-1"},{"to":"+8613900139000","messageId":"c1-2"}]}]}"#)
        let answer =
            #"{"bulkId":"b","messages":[{"to":"8613900139000","messageId":"c1-2","status":"#
            + #"{"groupName":"REJECTED","description":"Destination not registered"}},"#
            + #"{"to":"8613800138000","messageId":"c1-1","status":{"groupName":"PENDING"}}]}"#
        #expect(
            gateway.dialect.read(status: 200, body: Array(answer.utf8), batch: Self.contents)
                == .each([.accepted(gatewayID: "c1-1"), .rejected(status: 200, reason: "Destination not registered")]))
    }

    @Test func yunpianBatchSend() throws {
        let (gateway, body) = try Self.body("yunpian-batch.yaml")
        #expect(
            body == "apikey=k&text=%E5%8F%8C12%20%E4%BA%94%E6%8A%98&mobile=%2B8613800138000%2C%2B8613900139000")
        let answer =
            #"{"total_count":1,"data":[{"code":0,"msg":"发送成功","mobile":"13800138000","sid":3310228982},"#
            + #"{"code":2,"msg":"请求参数格式错误","mobile":"8613900139000"}]}"#
        // Yunpian drops the country code: only the second number's digits match as written.
        #expect(
            gateway.dialect.read(status: 200, body: Array(answer.utf8), batch: Self.contents)
                == .each([nil, .rejected(status: 200, reason: "请求参数格式错误")]))
    }

    @Test func jasminSendBatch() throws {
        let (_, body) = try Self.body("jasmin-sendbatch.yaml")
        #expect(
            body
                == #"{"messages":[{"to":"+8613800138000","from":"Qinghe","content":"双12 五折"},"#
                + #"{"to":"+8613900139000","from":"Qinghe","content":"双12 五折"}]}"#)
    }

    static func failure(_ gateway: String) -> String {
        SparrowConfigTests.failure("store: x\ngateways:\n  - { name: a, url: \"http://a\", \(gateway) }")
    }

    @Test func batchesThatCannotWorkAreRefusedAtLoad() {
        #expect(
            Self.failure("format: json, batch: { max: 10, list: to }, idempotency: { honoured: true }")
                .hasSuffix(
                    "cannot honour idempotency keys: after a crash the same messages may not be grouped the "
                        + "same way (remove 'idempotency: { honoured: true }')"))
        #expect(
            Self.failure("format: json, split: sparrow, batch: { max: 10, list: to }")
                == "sparrow.yaml:3:70: a gateway that splits with 'split: sparrow' sends no batches")
        #expect(
            Self.failure("format: form, batch: { max: 10, list: to, group: any }")
                == "sparrow.yaml:3:82: 'group: any' needs 'format: json': each message is an object")
        #expect(
            Self.failure("format: json, batch: { max: 0, list: to }")
                == "sparrow.yaml:3:61: expected a whole number in 1...10000")
        // With one text for many numbers, a field cannot carry one message's number or id.
        #expect(
            Self.failure("format: json, batch: { max: 10, list: to }, fields: { text: \"{{text}}\", ref: \"{{id}}\" }")
                .contains("field 'ref' uses 'id'"))
    }
}
