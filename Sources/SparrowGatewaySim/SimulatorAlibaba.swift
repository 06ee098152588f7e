import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import SparrowCore

extension GatewaySimulator {
    /// Answers Alibaba Cloud's `SendSms` and `SendBatchSms` as it does: `{"Code":"OK","BizId",…}` for the whole
    /// request, or a code: a bad signature, a stale timestamp or a nonce used before (HTTP 400), too many numbers,
    /// a template not approved, its flow control (`Throttling.User`) or a system error. Answers `QuerySendDetails`
    /// with the records of the messages it took.
    func answerAlibaba(
        _ action: AlibabaRequest.Action, body: ByteBuffer, receipts: ReceiptSender?, logs: MessageLogs
    ) async throws -> Response {
        let fields = RequestFields(query: nil, body: body).values
        if let refusal = refusingAlibaba(fields) { return refusal }
        switch action {
        case .query: return state.losesQuery(faults.lostQueries) ? Self.reset : queryAlibaba(fields)
        case .send(let api):
            return try await sendAlibaba(api, fields: fields, body: body, receipts: receipts, logs: logs)
        }
    }

    /// The answer to a request whose signature, timestamp or nonce Alibaba would refuse; nil for a good one.
    private func refusingAlibaba(_ fields: [String: String]) -> Response? {
        guard let timestamp = fields["Timestamp"].flatMap(Timestamp.init(rfc3339:)),
            let nonce = fields["SignatureNonce"], let signature = fields["Signature"]
        else { return Self.alibaba(status: .badRequest, "MissingParameter", "Timestamp, SignatureNonce and Signature") }
        if abs(Int64(Date().timeIntervalSince1970) - timestamp.secondsSince1970) > 900 {
            return Self.alibaba(
                status: .badRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
        }
        if let aliyun {
            let signed = AlibabaRPCSignature(
                method: .POST, parameters: fields.filter { $0.key != "Signature" }.map { ($0.key, $0.value) },
                secret: Secret(aliyun.secret))
            guard fields["AccessKeyId"] == aliyun.id, signature == signed.signature else {
                return Self.alibaba(
                    status: .badRequest, "SignatureDoesNotMatch",
                    "Specified signature is not matched with our calculation.")
            }
        }
        guard state.firstUse(of: nonce) else {
            return Self.alibaba(
                status: .badRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
        }
        return nil
    }

    private func sendAlibaba(
        _ action: AlibabaSMS.API, fields: [String: String], body: ByteBuffer, receipts: ReceiptSender?,
        logs: MessageLogs
    ) async throws -> Response {
        let numbers: [String]
        switch action {
        case .sendSms:
            numbers = fields["PhoneNumbers"]?.split(separator: ",").map(String.init) ?? []
        case .sendBatchSms:
            guard let json = fields["PhoneNumberJson"], case .array(let list)? = try? JSONValue.parse(Array(json.utf8))
            else { return Self.alibaba("isv.INVALID_JSON_PARAM", "JSON参数不合法") }
            numbers = list.compactMap(\.text)
        }
        guard let templateCode = fields["TemplateCode"], !templateCode.isEmpty,
            fields["SignName"] != nil || fields["SignNameJson"] != nil
        else {
            return Self.alibaba("isv.INVALID_PARAMETERS", "TemplateCode and SignName are required")
        }
        guard !faults.unapprovedTemplates.contains(templateCode) else {
            return Self.alibaba("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        }
        guard (1...action.maxNumbers).contains(numbers.count) else {
            return Self.alibaba("isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制")
        }
        if faults.latency > .zero { try await Task.sleep(for: faults.latency) }
        var whole = faults
        whole.refusedNumbers = 0  // Alibaba answers for the whole request: no number is refused alone
        let decision = state.decide(key: nil, faults: whole, count: numbers.count)
        logs.answer(decision, key: nil)
        switch decision {
        case .unavailable:
            return Self.alibaba("isp.SYSTEM_ERROR", "系统错误")
        case .throttled:
            return Self.alibaba(status: .badRequest, "Throttling.User", "Request was denied due to user flow control.")
        case .silent:
            try await Self.neverAnswer()
        case .reset(let messageIDs), .accepted(let messageIDs, _):
            let bizID = "\(UInt64.random(in: 100_000_000_000...999_999_999_999))^0"
            statuses.took(
                aliyun: .init(
                    bizID: bizID, outID: fields["OutId"] ?? "", templateCode: templateCode,
                    date: AlibabaSMS.sendDate(of: Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970)))),
                numbers: numbers)
            logs.record(numbers: numbers, given: messageIDs, body: body)
            if case .reset = decision { return Self.reset }
            for number in numbers {
                receipts?.schedule(messageID: bizID, to: number, style: .aliyun, draw: state.draw)
            }
            var json = JSONWriter()
            json.object { object in
                object.field("Code", "OK")
                object.field("Message", "OK")
                object.field("BizId", bizID)
                object.field("RequestId", UUID().uuidString)
            }
            return GatewaySimulator.jsonAnswer(json.bytes)
        }
    }

    /// `QuerySendDetails`: a page of the records of `PhoneNumber` on `SendDate` (of `BizId` when given).
    private func queryAlibaba(_ fields: [String: String]) -> Response {
        guard let number = fields["PhoneNumber"], let date = fields["SendDate"], date.count == 8,
            let pageSize = fields["PageSize"].flatMap({ Int($0) }), (1...50).contains(pageSize),
            let page = fields["CurrentPage"].flatMap({ Int($0) }), page >= 1
        else {
            return Self.alibaba(
                "isv.INVALID_PARAMETERS", "PhoneNumber, SendDate (yyyyMMdd), PageSize (1-50), CurrentPage are required")
        }
        let records = statuses.aliyunRecords(number: number, date: date, bizID: fields["BizId"])
        var json = JSONWriter()
        json.object { object in
            object.field("Code", "OK")
            object.field("Message", "OK")
            object.field("RequestId", UUID().uuidString)
            object.field("TotalCount", records.count)
            object.field("SmsSendDetailDTOs") { dtos in
                dtos.object { dtos in
                    dtos.field("SmsSendDetailDTO") { list in
                        list.array { array in
                            for record in records.dropFirst((page - 1) * pageSize).prefix(pageSize) {
                                array.object { dto in
                                    dto.field("PhoneNum", number)
                                    dto.field("SendStatus", 3)
                                    dto.field("ErrCode", "DELIVERED")
                                    dto.field("TemplateCode", record.templateCode)
                                    dto.field("Content", "")
                                    dto.field(
                                        "SendDate",
                                        "\(record.date.prefix(4))-\(record.date.dropFirst(4).prefix(2))-\(record.date.suffix(2)) 10:00:00"
                                    )
                                    dto.field(
                                        "ReceiveDate",
                                        "\(record.date.prefix(4))-\(record.date.dropFirst(4).prefix(2))-\(record.date.suffix(2)) 10:00:05"
                                    )
                                    dto.field("OutId", record.outID)
                                }
                            }
                        }
                    }
                }
            }
        }
        return GatewaySimulator.jsonAnswer(json.bytes)
    }

    /// An answer with Alibaba Cloud's `Code` and `Message`.
    static func alibaba(status: HTTPResponse.Status = .ok, _ code: String, _ message: String) -> Response {
        var json = JSONWriter()
        json.object { object in
            object.field("Code", code)
            object.field("Message", message)
            object.field("RequestId", UUID().uuidString)
        }
        return GatewaySimulator.jsonAnswer(json.bytes, status: status)
    }
}

/// Tells an Alibaba Cloud SMS request by its form: an `Action` of `SendSms`, `SendBatchSms` or `QuerySendDetails`
/// beside a `Signature`.
enum AlibabaRequest {
    enum Action: Equatable {
        case send(AlibabaSMS.API)
        case query

        /// The action of a signed form; nil for any other body. The signature's version is looked for before the
        /// form is parsed: other forms are not parsed twice.
        init?(_ body: ByteBuffer) {
            guard body.contains(AlibabaRequest.signatureVersion) else { return nil }
            let fields = RequestFields(query: nil, body: body).values
            guard fields["Signature"] != nil, let action = fields["Action"] else { return nil }
            if action == "QuerySendDetails" {
                self = .query
            } else if let api = AlibabaSMS.API(rawValue: action) {
                self = .send(api)
            } else {
                return nil
            }
        }
    }

    /// What every signed request carries.
    static let signatureVersion = Array("SignatureVersion=1.0".utf8)
}
