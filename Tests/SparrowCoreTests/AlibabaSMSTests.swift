import Foundation
import Testing

@testable import SparrowCore

@Suite struct AlibabaSMSTests {
    static let now = Timestamp(secondsSince1970: 1_795_377_600)
    static func aliyun(_ api: AlibabaSMS.API) -> AlibabaSMS {
        AlibabaSMS(signName: "青禾旗舰店", accessKeyID: "testid", accessKeySecret: Secret("testsecret"), api: api)
    }
    static let contents = [
        SubmitContent(
            to: "+8613800138000", text: "t", id: "c1-1", templateID: "SMS_153055065", parameters: ["林", "8801"],
            parameterNames: ["name", "order"]),
        SubmitContent(
            to: "+8613900139000", text: "t", id: "c1-2", templateID: "SMS_153055065", parameters: ["王", "8802"],
            parameterNames: ["name", "order"]),
    ]

    /// The form's fields, decoded, and whether its signature is the one Alibaba computes over the others.
    static func fields(_ request: EncodedRequest) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: request.body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding! }
            fields[parts[0]] = parts[1]
        }
        return fields
    }

    @Test func sendSmsCarriesTheNumbersAndOneSetOfParametersSigned() throws {
        let request = try Self.aliyun(.sendSms).request(batch: Self.contents, now: Self.now, attempt: 1).get()
        let fields = Self.fields(request)
        #expect(fields["Action"] == "SendSms" && fields["Version"] == "2017-05-25")
        #expect(fields["PhoneNumbers"] == "+8613800138000,+8613900139000")
        #expect(fields["TemplateCode"] == "SMS_153055065" && fields["SignName"] == "青禾旗舰店")
        #expect(fields["TemplateParam"] == #"{"name":"林","order":"8801"}"#)
        #expect(fields["Timestamp"] == "2026-11-22T20:00:00Z" && fields["OutId"] == "c1-1")
        let signed = AlibabaRPCSignature(
            method: .POST, parameters: fields.filter { $0.key != "Signature" }.map { ($0.key, $0.value) },
            secret: Secret("testsecret"))
        #expect(fields["Signature"] == signed.signature)
        #expect(request.headers == ["Content-Type: application/x-www-form-urlencoded"])
        #expect(!String(decoding: request.body, as: UTF8.self).contains("testsecret"))
    }

    @Test func sendBatchSmsGivesEachNumberItsOwnParameters() throws {
        let fields = Self.fields(
            try Self.aliyun(.sendBatchSms).request(batch: Self.contents, now: Self.now, attempt: 1).get())
        #expect(fields["Action"] == "SendBatchSms")
        #expect(fields["PhoneNumberJson"] == #"["+8613800138000","+8613900139000"]"#)
        #expect(fields["SignNameJson"] == #"["青禾旗舰店","青禾旗舰店"]"#)
        #expect(fields["TemplateParamJson"] == #"[{"name":"林","order":"8801"},{"name":"王","order":"8802"}]"#)
    }

    @Test func eachAttemptHasANonceOfItsOwn() throws {
        let first = Self.fields(
            try Self.aliyun(.sendSms).request(batch: Self.contents, now: Self.now, attempt: 1).get())
        let second = Self.fields(
            try Self.aliyun(.sendSms).request(batch: Self.contents, now: Self.now, attempt: 2).get())
        #expect(first["SignatureNonce"] != second["SignatureNonce"])
    }

    @Test(arguments: [
        ("OK", AnswerReading.accepted(gatewayID: "9006197469364984400^0")),
        ("isp.SYSTEM_ERROR", .retry(reason: "isp.SYSTEM_ERROR: m")),
        ("Throttling.User", .retry(reason: "Throttling.User: m")),
        ("SignatureNonceUsed", .retry(reason: "SignatureNonceUsed: m")),
        ("isv.BUSINESS_LIMIT_CONTROL", .deferred(reason: "isv.BUSINESS_LIMIT_CONTROL: m", for: .seconds(3600))),
        ("isv.DAY_LIMIT_CONTROL", .deferred(reason: "isv.DAY_LIMIT_CONTROL: m", for: .seconds(86_400))),
        ("isv.SMS_TEMPLATE_ILLEGAL", .rejected(status: 200, reason: "isv.SMS_TEMPLATE_ILLEGAL: m")),
        (
            "InvalidTimeStamp.Expired",
            .rejected(
                status: 200,
                reason: "InvalidTimeStamp.Expired: m: this host's clock is off by minutes; set it right and resume")
        ),
    ])
    func codesAreClassified(code: String, reading: AnswerReading) {
        let answer = #"{"Code":"\#(code)","Message":"m","BizId":"9006197469364984400^0","RequestId":"r"}"#
        #expect(Self.aliyun(.sendSms).read(status: 200, body: Array(answer.utf8)) == reading)
    }

    @Test func pushedReceiptsNameTheRequestAndANationalNumber() throws {
        let body =
            #"[{"phone_number":"13800138000","success":true,"err_code":"DELIVERED","biz_id":"932702304080415357^0"},"#
            + #"{"phone_number":"13900139000","success":false,"err_code":"MK:0001","biz_id":"932702304080415357^0"}]"#
        guard case .list(let receipts) = try DeliveryReceipts(body: Array(body.utf8), mapping: .aliyun) else {
            Issue.record("a list")
            return
        }
        // Named as a message sent in that request: its id, and the number's international digits.
        #expect(
            try receipts.map { try $0.get() } == [
                DeliveryReceipt(
                    gatewayMessageID: GatewayDialect.batchMessageID(
                        batch: "932702304080415357^0", number: "+8613800138000"),
                    status: .delivered, error: "DELIVERED"),
                DeliveryReceipt(
                    gatewayMessageID: "932702304080415357^0/8613900139000", status: .undelivered, error: "MK:0001"),
            ])
    }

    @Test func querySendDetailsAsksAfterANumberOnADaySigned() {
        let fields = Self.fields(
            Self.aliyun(.sendSms).queryRequest(
                number: "+8613800138000", sendDate: "20261123", bizID: "134523^4351232", page: 2, now: Self.now,
                nonce: "n-1"))
        #expect(fields["Action"] == "QuerySendDetails" && fields["PhoneNumber"] == "+8613800138000")
        #expect(fields["SendDate"] == "20261123" && fields["BizId"] == "134523^4351232")
        #expect(fields["PageSize"] == "50" && fields["CurrentPage"] == "2" && fields["SignatureNonce"] == "n-1")
        let signed = AlibabaRPCSignature(
            method: .POST, parameters: fields.filter { $0.key != "Signature" }.map { ($0.key, $0.value) },
            secret: Secret("testsecret"))
        #expect(fields["Signature"] == signed.signature)
    }

    /// `SendStatus` 1 waits for the carrier's report, 2 failed, 3 delivered; `OutId` names the request's first
    /// message, so the campaign. `TotalCount` comes as a number or as a string.
    @Test(arguments: ["3", #""3""#])
    func detailsGiveEachRecordsStateAndCampaign(total: String) throws {
        let answer = """
            {"Code":"OK","Message":"OK","RequestId":"r","TotalCount":\(total),"SmsSendDetailDTOs":{"SmsSendDetailDTO":[
            {"PhoneNum":"13800138000","SendStatus":3,"ErrCode":"DELIVERED","OutId":"sale-1-00aa11bb"},
            {"PhoneNum":"13800138000","SendStatus":2,"ErrCode":"MK:0001","OutId":"sale-7-00aa11bb"},
            {"PhoneNum":"13800138000","SendStatus":1,"ErrCode":"","OutId":""}]}}
            """
        let page = try Self.aliyun(.sendSms).readDetails(status: 200, body: Array(answer.utf8)).get()
        #expect(page.total == 3)
        #expect(page.statuses.map(\.state) == [.delivered, .undelivered, .accepted])
        #expect(page.statuses.map(\.error) == [nil, "MK:0001", nil])
        #expect(page.statuses.map(\.campaign) == ["sale", "sale", nil])
        let refused = #"{"Code":"isv.MOBILE_NUMBER_ILLEGAL","Message":"非法手机号","RequestId":"r"}"#
        #expect(
            Self.aliyun(.sendSms).readDetails(status: 200, body: Array(refused.utf8))
                == .failure(StatusQueryError(reason: "isv.MOBILE_NUMBER_ILLEGAL: 非法手机号")))
        let empty = #"{"Code":"OK","Message":"OK","RequestId":"r","TotalCount":0,"SmsSendDetailDTOs":{}}"#
        #expect(try Self.aliyun(.sendSms).readDetails(status: 200, body: Array(empty.utf8)).get().statuses.isEmpty)
    }

    @Test(arguments: [
        ("2026-12-06T15:59:59Z", "20261206"), ("2026-12-06T16:00:00Z", "20261207"),
        ("2026-01-01T00:00:00Z", "20260101"),
    ])
    func theSendDateIsChinasDate(instant: String, date: String) {
        #expect(AlibabaSMS.sendDate(of: Timestamp(rfc3339: instant)!) == date)
    }
}
