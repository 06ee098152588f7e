import SparrowCore
import Testing

@testable import SparrowConfig

@Suite struct ReceiptsConfigurationTests {
    @Test func theWebhookHasDefaults() throws {
        let receipts = try load(minimal + "\nreceipts: { token: abc }").receipts
        #expect(receipts == SparrowConfiguration.Receipts(token: Secret("abc")))
        #expect(receipts?.listen == "127.0.0.1:8089")
        #expect(receipts?.maxBody == 65_536)
        #expect(receipts?.unsubscribeKeywords == ["T", "TD", "R", "退订", "STOP", "UNSUBSCRIBE"])
        #expect(receipts?.clientRate == 10_000 && receipts?.clientBurst == 20_000)
    }

    @Test func everyWebhookKeyIsRead() throws {
        let receipts = try #require(
            try load(
                minimal + """

                    receipts:
                      listen: "[::1]:0"
                      token: abc
                      hmac_secret: ${DLR_SECRET}
                      max_body: 32KiB
                      unsubscribe_keywords: [STOP, 退订]
                      rate_limit: { per_client: 50, burst: 10 }
                    """, environment: ["DLR_SECRET": "k3y"]
            ).receipts)
        #expect(receipts.host == "::1" && receipts.port == 0 && receipts.listen == "[::1]:0")
        #expect(receipts.hmacSecret?.value == "k3y")
        #expect("\(receipts.hmacSecret!)" == "<redacted>")
        #expect(receipts.maxBody == 32_768)
        #expect(receipts.unsubscribeKeywords == ["STOP", "退订"])
        #expect(receipts.clientRate == 50 && receipts.clientBurst == 10)
        #expect(try load(minimal + "\nreceipts: { rate_limit: { per_client: 2.5 } }").receipts?.clientBurst == 5)
    }

    @Test func aGatewayMayMapItsReceipts() throws {
        let configuration = try load(
            """
            store: x
            gateways:
              - name: a
                url: http://a
                format: json
                receipts:
                  list: data.reports
                  id: data.id
                  status: [state, status]
                  error: reason
                  states: { delivered: [OK, "1"], undelivered: KO }
                  answer: '{"code":0,"msg":"接收成功"}'
              - { name: b, url: http://b, format: form }
            """)
        let mapping = configuration.gateways[0].receipts
        #expect(mapping.listPath == "data.reports")
        #expect(mapping.answer == #"{"code":0,"msg":"接收成功"}"#)
        #expect(mapping.idFields == ["data.id"])
        #expect(mapping.statusFields == ["state", "status"])
        #expect(mapping.errorFields == ["reason"])
        #expect(mapping.status(of: "ok") == .delivered && mapping.status(of: "1") == .delivered)
        #expect(mapping.status(of: "KO") == .undelivered)
        #expect(mapping.status(of: "DELIVRD") == .delivered)  // the standard words stay
        #expect(configuration.gateways[1].receipts == .standard)
        #expect(ReceiptMapping.standard.listPath == nil)
    }

    @Test(arguments: [
        (minimal + "\nreceipts: { listen: localhost }", "sparrow.yaml:4:21: expected HOST:PORT, e.g. 127.0.0.1:8089"),
        (
            minimal + "\nreceipts: { hmac_secert: x }",
            "sparrow.yaml:4:13: unknown key 'hmac_secert' (did you mean 'hmac_secret'?)"
        ),
        (
            minimal + "\nreceipts: { max_body: 1GiB }",
            "sparrow.yaml:4:23: expected a size from 1 B to 16MiB, e.g. 65536, 64KiB or 1MiB"
        ),
        (minimal + "\nreceipts: { token: \"\" }", "sparrow.yaml:4:20: a secret cannot be empty"),
        (minimal + "\nreceipts: { rate_limit: { per_client: 0 } }", "sparrow.yaml:4:39: a rate must be above 0"),
        (minimal + "\nreceipts: { rate_limit: { burst: 5 } }", "sparrow.yaml:4:25: missing key 'per_client'"),
        (minimal + "\nreceipts: { unsubscribe_keywords: [TD, \" \"] }", "sparrow.yaml:4:40: a keyword cannot be empty"),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, receipts: { states: { failed: [X] } } }",
            "sparrow.yaml:3:67: unknown key 'failed'"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, "
                + "receipts: { states: { delivered: [OK], undelivered: [ok] } } }",
            "sparrow.yaml:3:98: 'ok' is already listed under delivered"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, receipts: { id: [] } }",
            "sparrow.yaml:3:61: expected a field name or a list of them"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, receipts: { status: [s, \"\"] } }",
            "sparrow.yaml:3:69: expected a field name"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, receipts: { list: \"\" } }",
            "sparrow.yaml:3:63: expected a field name"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, receipts: { list: [a] } }",
            "sparrow.yaml:3:63: expected"
        ),
        (
            "store: x\ngateways:\n  - { name: a, url: http://a, format: json, receipts: { answer: \"\" } }",
            "sparrow.yaml:3:65: expected the answer's body, from 1 byte to 1 KiB"
        ),
    ])
    func errorsNameTheirPlace(_ yaml: String, expected: String) {
        let message = failure(yaml)
        #expect(message.hasPrefix(expected), "\(message)")
    }
}
