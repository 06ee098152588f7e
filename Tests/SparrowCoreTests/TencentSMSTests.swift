import Testing

@testable import SparrowCore

@Suite struct TencentSMSTests {
    static let tencent = TencentSMS(
        endpoint: "https://sms.tencentcloudapi.com", region: "ap-guangzhou", sdkAppID: "1400006666",
        signName: "青禾旗舰店", secretID: "AKIDexample", secretKey: Secret("secret"))
    static let now = Timestamp(secondsSince1970: 1_795_377_600)
    static let contents = [
        SubmitContent(
            to: "+8613800138000", text: "【青禾旗舰店】林，双12五折", id: "c1-1", templateID: "1110422", parameters: ["林"]),
        SubmitContent(
            to: "+8613900139000", text: "【青禾旗舰店】林，双12五折", id: "c1-2", templateID: "1110422", parameters: ["林"]),
    ]

    @Test func sendSmsCarriesTheNumbersTheTemplateAndItsParametersSigned() throws {
        let request = try Self.tencent.request(batch: Self.contents, now: Self.now).get()
        let body = String(decoding: request.body, as: UTF8.self)
        #expect(
            body
                == #"{"PhoneNumberSet":["+8613800138000","+8613900139000"],"SmsSdkAppId":"1400006666","#
                + #""SignName":"青禾旗舰店","TemplateId":"1110422","TemplateParamSet":["林"],"SessionContext":"c1-1"}"#)
        #expect(request.url == "https://sms.tencentcloudapi.com")
        let signed = TencentTC3Signature(
            service: "sms", host: "sms.tencentcloudapi.com", contentType: "application/json; charset=utf-8",
            action: "SendSms", body: request.body, timestamp: Self.now, secretID: "AKIDexample",
            secret: Secret("secret"))
        #expect(
            request.headers == [
                "Content-Type: application/json; charset=utf-8", "X-TC-Action: SendSms", "X-TC-Version: 2021-01-11",
                "X-TC-Region: ap-guangzhou", "X-TC-Timestamp: 1795377600", "Authorization: \(signed.authorization)",
            ])
        #expect(!request.headers.joined().contains("secret"))  // the key signs; it never travels
    }

    @Test func theSignedHostIsTheEndpointsAuthority() {
        var local = Self.tencent
        local.endpoint = "http://127.0.0.1:18088/"
        #expect(local.host == "127.0.0.1:18088")
        #expect(Self.tencent.host == "sms.tencentcloudapi.com")
    }

    @Test func aMessageWithoutAnApprovedTemplateCannotGo() {
        var contents = Self.contents
        contents[0].templateID = nil
        #expect(throws: MissingVariable(name: "template_id")) {
            try Self.tencent.request(batch: contents, now: Self.now).get()
        }
    }

    static func read(_ body: String, status: Int = 200) -> GatewayDialect.BatchReading {
        tencent.read(status: status, body: Array(body.utf8), batch: contents)
    }

    @Test func eachNumberIsReadByItsCode() {
        let answer =
            #"{"Response":{"SendStatusSet":["#
            + #"{"SerialNo":"","PhoneNumber":"+8613900139000","Code":"FailedOperation.PhoneNumberInBlacklist","Message":"黑名单"},"#
            + #"{"SerialNo":"5000:1045710669157053657849499619","PhoneNumber":"+8613800138000","Code":"Ok","Message":"send success"}"#
            + #"],"RequestId":"a0aabda6"}}"#
        #expect(
            Self.read(answer)
                == .each([
                    .accepted(gatewayID: "5000:1045710669157053657849499619"),
                    .blacklisted(reason: "FailedOperation.PhoneNumberInBlacklist: 黑名单"),
                ]))
    }

    @Test(arguments: [
        ("InternalError.Timeout", AnswerReading.retry(reason: "InternalError.Timeout: m")),
        ("RequestLimitExceeded", .retry(reason: "RequestLimitExceeded: m")),
        (
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            .deferred(reason: "LimitExceeded.PhoneNumberThirtySecondLimit: m", for: .seconds(30))
        ),
        (
            "LimitExceeded.PhoneNumberOneHourLimit",
            .deferred(reason: "LimitExceeded.PhoneNumberOneHourLimit: m", for: .seconds(3600))
        ),
        (
            "FailedOperation.MarketingSendTimeConstraint",
            .deferred(reason: "FailedOperation.MarketingSendTimeConstraint: m", for: .seconds(3600))
        ),
        (
            "LimitExceeded.PhoneNumberDailyLimit",
            .deferred(reason: "LimitExceeded.PhoneNumberDailyLimit: m", for: .seconds(86_400))
        ),
        ("FailedOperation.PhoneNumberInBlacklist", .blacklisted(reason: "FailedOperation.PhoneNumberInBlacklist: m")),
        (
            "FailedOperation.TemplateIncorrectOrUnapproved",
            .rejected(status: 200, reason: "FailedOperation.TemplateIncorrectOrUnapproved: m")
        ),
        (
            "InvalidParameterValue.IncorrectPhoneNumber",
            .rejected(status: 200, reason: "InvalidParameterValue.IncorrectPhoneNumber: m")
        ),
        (
            "AuthFailure.SignatureExpire",
            .rejected(
                status: 200,
                reason: "AuthFailure.SignatureExpire: m: this host's clock is off by minutes; set it right and resume")
        ),
    ])
    func codesAreClassified(code: String, reading: AnswerReading) {
        #expect(TencentSMS.reading(code: code, message: "m", status: 200, serialNo: nil) == reading)
        // The same code for the whole request applies to every number.
        let answer = #"{"Response":{"Error":{"Code":"\#(code)","Message":"m"},"RequestId":"r"}}"#
        #expect(Self.read(answer) == .whole(reading))
    }

    @Test func anAnswerThatIsNotTencentsIsARefusalOfTheRequest() {
        #expect(
            Self.read("<html>bad gateway</html>", status: 502)
                == .whole(.rejected(status: 502, reason: "<html>bad gateway</html>")))
        #expect(
            Self.read(#"{"Response":{"RequestId":"r"}}"#)
                == .whole(.rejected(status: 200, reason: "the answer has no Response.SendStatusSet")))
        // A number the answer leaves out has no reading: it may or may not have gone.
        let partial = #"{"Response":{"SendStatusSet":[{"SerialNo":"s1","PhoneNumber":"+8613800138000","Code":"Ok"}]}}"#
        #expect(Self.read(partial) == .each([.accepted(gatewayID: "s1"), nil]))
    }

    @Test func pushedReceiptsAreReadAsTencentWritesThem() throws {
        let body =
            #"[{"user_receive_time":"2026-12-06 10:00:00","nationcode":"86","mobile":"13800138000","#
            + #""report_status":"SUCCESS","errmsg":"DELIVRD","description":"用户短信送达成功","sid":"s1"},"#
            + #"{"mobile":"13900139000","report_status":"FAIL","errmsg":"UNDELIV","sid":"s2"}]"#
        guard case .list(let receipts) = try DeliveryReceipts(body: Array(body.utf8), mapping: .tencent) else {
            Issue.record("a list")
            return
        }
        #expect(
            try receipts.map { try $0.get() } == [
                DeliveryReceipt(gatewayMessageID: "s1", status: .delivered, error: "DELIVRD"),
                DeliveryReceipt(gatewayMessageID: "s2", status: .undelivered, error: "UNDELIV"),
            ])
        #expect(ReceiptMapping.tencent.answer == #"{"result":0,"errmsg":"OK"}"#)
    }

    @Test func pullSmsSendStatusAsksForTheApplicationsReportsSigned() {
        let request = Self.tencent.pullStatusRequest(limit: 500, now: Self.now)
        #expect(String(decoding: request.body, as: UTF8.self) == #"{"Limit":100,"SmsSdkAppId":"1400006666"}"#)
        let signed = TencentTC3Signature(
            service: "sms", host: "sms.tencentcloudapi.com", contentType: "application/json; charset=utf-8",
            action: "PullSmsSendStatus", body: request.body, timestamp: Self.now, secretID: "AKIDexample",
            secret: Secret("secret"))
        #expect(request.headers.contains("X-TC-Action: PullSmsSendStatus"))
        #expect(request.headers.last == "Authorization: \(signed.authorization)")
    }

    /// The shape of Tencent Cloud's documented example, with a report of Sparrow's (its context a message id).
    @Test func pulledReportsNameTheirNumberSerialAndCampaign() throws {
        let answer = """
            {"Response":{"PullSmsSendStatusSet":[
            {"Description":"DELIVRD","CountryCode":"86","SubscriberNumber":"15291990000","ReportStatus":"SUCCESS",
             "PhoneNumber":"+8615291990000","SerialNo":"14:19325917feb3914eb78b50d6182d7e452e",
             "UserReceiveTime":1620734188,"SessionContext":""},
            {"Description":"MK:0011","CountryCode":"86","SubscriberNumber":"15291990001","ReportStatus":"FAIL",
             "PhoneNumber":"+8615291990001","SerialNo":"14:2","UserReceiveTime":1620734188,
             "SessionContext":"spring-sale-42-9c1f03aa"}],
            "RequestId":"8979fc1e-9564-4fc9-bf7d-2958ce679b72"}}
            """
        let page = try Self.tencent.readPulledStatuses(status: 200, body: Array(answer.utf8)).get()
        #expect(
            page.statuses == [
                ProviderStatus(
                    number: "+8615291990000", gatewayID: "14:19325917feb3914eb78b50d6182d7e452e", context: nil,
                    state: .delivered, error: nil),
                ProviderStatus(
                    number: "+8615291990001", gatewayID: "14:2", context: "spring-sale-42-9c1f03aa",
                    state: .undelivered, error: "MK:0011"),
            ])
        #expect(page.statuses.map(\.campaign) == [nil, "spring-sale"])
        let refused =
            #"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"签名错误"},"RequestId":"r"}}"#
        #expect(
            Self.tencent.readPulledStatuses(status: 200, body: Array(refused.utf8))
                == .failure(StatusQueryError(reason: "AuthFailure.SignatureFailure: 签名错误")))
        #expect(throws: StatusQueryError.self) { try Self.tencent.readPulledStatuses(status: 502, body: []).get() }
    }
}
