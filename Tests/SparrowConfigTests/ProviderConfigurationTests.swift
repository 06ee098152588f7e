import SparrowCore
import Testing

@testable import SparrowConfig

/// Gateways of a provider's own API, and the templates it approved.
@Suite struct ProviderConfigurationTests {
    static let tencent = """
        store: x
        signature: "【青禾旗舰店】"
        gateways:
          - name: tencent
            type: tencent
            region: ap-guangzhou
            sdk_app_id: "1400006666"
            sign_name: 青禾旗舰店
            secret_id: ${TENCENTCLOUD_SECRET_ID}
            secret_key: ${TENCENTCLOUD_SECRET_KEY}
        """
    static let environment = ["TENCENTCLOUD_SECRET_ID": "AKIDexample", "TENCENTCLOUD_SECRET_KEY": "s3cr3t"]

    @Test func aTencentGatewayTakesItsAccountAndSendsBatchesOf200() throws {
        let configuration = try load(
            Self.tencent + """

                templates:
                  sale:
                    text: "{1}，双12全场五折。拒收请回复R"
                    columns: [name]
                    ids: { tencent: "1110422" }
                """, environment: Self.environment)
        let gateway = try #require(configuration.gateways.first)
        guard case .tencent(let tencent)? = gateway.dialect.provider else {
            Issue.record("a tencent gateway")
            return
        }
        #expect(tencent.endpoint == "https://sms.tencentcloudapi.com")
        #expect(tencent.region == "ap-guangzhou" && tencent.sdkAppID == "1400006666")
        #expect(tencent.secretKey.value == "s3cr3t" && "\(tencent)".contains("<redacted>"))
        #expect(gateway.dialect.batch?.max == 200)
        #expect(!gateway.retry.honoursIdempotencyKey)
        #expect(gateway.receipts == .tencent)
        let sale = try #require(configuration.templates["sale"])
        #expect(sale.variables == ["name"])
        #expect(sale.ids == ["tencent": "1110422"])
        // The approved text carries its own opt-out: only the signature is added, for segments and cost.
        let settings = configuration.planSettings(message: .approved(sale))
        #expect(settings.parameters == ["name"])
        #expect(settings.optoutSuffix.isEmpty && settings.signature == "【青禾旗舰店】")
        #expect(configuration.refusal(of: .approved(sale)) == nil)
        #expect(
            configuration.refusal(of: .text(try MessageTemplate("hi")))
                == "gateway 'tencent' sends only templates its provider approved: name one with --approved")
    }

    @Test func aTemplateWithoutAnIDForAProvidersGatewayCannotBeSent() throws {
        let configuration = try load(
            Self.tencent + """

                  - { name: plain, url: "https://sms.example.com", format: json }
                templates:
                  sale: { text: "双12全场五折", ids: { plain: "x" } }
                """, environment: Self.environment)
        #expect(
            configuration.refusal(of: .approved(configuration.templates["sale"]!))
                == "template 'sale' has no id for gateway 'tencent' (templates.sale.ids)")
    }

    @Test func anAliyunGatewayTakesItsAccessKeyAndItsAPI() throws {
        let configuration = try load(
            """
            store: x
            gateways:
              - { name: aliyun, type: aliyun, sign_name: 青禾旗舰店, access_key_id: id, access_key_secret: s3cr3t,
                  api: SendBatchSms }
            templates:
              unpaid: { text: "您的订单${order}还未付款", ids: { aliyun: SMS_153055065 } }
            """)
        let gateway = try #require(configuration.gateways.first)
        guard case .aliyun(let aliyun)? = gateway.dialect.provider else {
            Issue.record("an aliyun gateway")
            return
        }
        #expect(aliyun.endpoint == "https://dysmsapi.aliyuncs.com/" && aliyun.region == "cn-hangzhou")
        #expect(aliyun.api == .sendBatchSms && gateway.dialect.batch?.max == 100)
        #expect(gateway.dialect.batch?.grouping == .anyText)
        #expect(gateway.receipts == .aliyun)
        // `${order}` is the template's placeholder, not an environment variable.
        #expect(configuration.templates["unpaid"]?.variables == ["order"])
        #expect(
            failure(
                "store: x\ngateways:\n  - { name: a, type: aliyun, sign_name: s, access_key_id: i, access_key_secret: k, sdk_app_id: \"1\" }"
            )
                == "sparrow.yaml:3:96: 'sdk_app_id' does not apply to a gateway of type aliyun")
    }

    @Test func keysOfTheOtherKindAreRefused() {
        #expect(
            failure(Self.tencent + "\n    format: json", environment: Self.environment)
                == "sparrow.yaml:11:13: 'format' does not apply to a gateway of type tencent: its API fixes it")
        #expect(
            failure("store: x\ngateways:\n  - { name: a, url: \"http://a\", format: json, region: ap-guangzhou }")
                == "sparrow.yaml:3:55: 'region' belongs to a provider's gateway: give its 'type'")
        #expect(
            failure("store: x\ngateways:\n  - { name: a, type: tencent, region: r, sdk_app_id: \"1\", sign_name: s }")
                == "sparrow.yaml:3:5: missing key 'secret_id'")
    }

    @Test func templatesAreCheckedWhereTheyAreWritten() {
        #expect(
            failure(
                Self.tencent + "\ntemplates:\n  sale: { text: \"hi\", ids: { tencnet: \"1\" } }",
                environment: Self.environment)
                == "sparrow.yaml:12:39: template 'sale': unknown gateway 'tencnet' (did you mean 'tencent'?)")
        #expect(
            failure(
                Self.tencent + "\ntemplates:\n  sale: { text: \"{1}{2}\", columns: [a], ids: { tencent: \"1\" } }",
                environment: Self.environment)
                == "sparrow.yaml:12:17: template 'sale': placeholder {2} has no column: list the template's columns, in order"
        )
    }
}
