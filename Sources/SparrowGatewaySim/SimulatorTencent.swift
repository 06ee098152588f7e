import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import SparrowCore

extension GatewaySimulator {
    /// The codes a number the simulator refuses alone gets, in turn by its digits: give up, defer, suppress.
    static let tencentRefusals = [
        ("InvalidParameterValue.IncorrectPhoneNumber", "手机号格式错误"),
        ("LimitExceeded.PhoneNumberDailyLimit", "单个手机号日下发短信条数超过设定的上限"),
        ("FailedOperation.PhoneNumberInBlacklist", "手机号在免打扰名单库中"),
    ]

    /// Answers Tencent Cloud's `SendSms` as it does: HTTP 200 and `Response.Error` for a request it refuses (a bad or
    /// stale signature, more than 200 numbers, a template not approved, its request limit), else
    /// `Response.SendStatusSet` with a result per number. Answers `PullSmsSendStatus` with the reports waiting.
    func answerTencent(
        _ request: Request, body: ByteBuffer, receipts: ReceiptSender?, logs: MessageLogs
    ) async throws -> Response {
        let bytes = Array(body.readableBytesView)
        func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
        let action = header("X-TC-Action")
        guard action == "SendSms" || action == "PullSmsSendStatus" else {
            return Self.tencentError("InvalidAction", "only SendSms and PullSmsSendStatus are played here")
        }
        guard let timestamp = header("X-TC-Timestamp").flatMap(Int64.init) else {
            return Self.tencentError("MissingParameter", "X-TC-Timestamp is missing")
        }
        if abs(Int64(Date().timeIntervalSince1970) - timestamp) > 300 {
            return Self.tencentError("AuthFailure.SignatureExpire", "签名过期。Timestamp 和服务器时间相差不得超过五分钟")
        }
        if let tencent {
            let signed = TencentTC3Signature(
                service: "sms", host: header("Host") ?? request.head.authority ?? "",
                contentType: header("Content-Type") ?? "", action: header("X-TC-Action"), body: bytes,
                timestamp: Timestamp(secondsSince1970: timestamp), secretID: tencent.id,
                secret: Secret(tencent.secret))
            guard header("Authorization") == signed.authorization else {
                return Self.tencentError("AuthFailure.SignatureFailure", "请求签名验证失败")
            }
        }
        if action == "PullSmsSendStatus" {
            return state.losesQuery(faults.lostQueries) ? Self.reset : pullTencentReports(bytes)
        }
        guard let document = try? JSONValue.parse(bytes), case .array(let set)? = document[path: "PhoneNumberSet"],
            let templateID = document[path: "TemplateId"]?.text, !templateID.isEmpty,
            document[path: "SmsSdkAppId"]?.text != nil
        else { return Self.tencentError("InvalidParameter", "PhoneNumberSet, SmsSdkAppId and TemplateId are required") }
        guard !faults.unapprovedTemplates.contains(templateID) else {
            return Self.tencentError("FailedOperation.TemplateIncorrectOrUnapproved", "模板未审批或内容不匹配")
        }
        let numbers = set.compactMap(\.text)
        let context = document[path: "SessionContext"]?.text ?? ""
        guard numbers.count <= TencentSMS.maxNumbers else {
            return Self.tencentError("LimitExceeded.PhoneNumberCountLimit", "单次提交号码数超过200")
        }
        if faults.latency > .zero { try await Task.sleep(for: faults.latency) }
        let decision = state.decide(key: nil, faults: faults, count: numbers.count)
        logs.answer(decision, key: nil)
        switch decision {
        case .unavailable:
            return Self.tencentError("InternalError.Timeout", "请求下发短信超时")
        case .throttled:
            return Self.tencentError("RequestLimitExceeded", "请求的次数超过了频率限制")
        case .silent:
            try await Self.neverAnswer()
        case .reset(let messageIDs):
            took(numbers, messageIDs, context: context)
            logs.record(numbers: numbers, given: messageIDs, body: body)
            return Self.reset
        case .accepted(let messageIDs, _):
            took(numbers, messageIDs, context: context)
            let answer = Self.tencentAnswer { response in
                response.field("SendStatusSet") { results in
                    results.array { array in
                        for (number, messageID) in zip(numbers, messageIDs) {
                            array.object { result in
                                let refusal = Self.tencentRefusals[
                                    number.utf8.reduce(0) { $0 + Int($1) } % Self.tencentRefusals.count]
                                result.field("SerialNo", messageID ?? "")
                                result.field("PhoneNumber", number)
                                result.field("Fee", messageID == nil ? 0 : 1)
                                result.field("SessionContext", context)
                                result.field("Code", messageID == nil ? refusal.0 : "Ok")
                                result.field("Message", messageID == nil ? refusal.1 : "send success")
                                result.field("IsoCode", "CN")
                            }
                        }
                    }
                }
            }
            logs.record(numbers: numbers, given: messageIDs, body: body)
            for case (let number, let messageID?) in zip(numbers, messageIDs) {
                receipts?.schedule(messageID: messageID, to: number, style: .tencent, draw: state.draw)
            }
            return answer
        }
    }

    /// Queues the reports of the numbers taken, for pulls, when receipts are not pushed.
    private func took(_ numbers: [String], _ messageIDs: [String?], context: String) {
        guard receipts == nil else { return }
        statuses.took(
            tencent: zip(numbers, messageIDs).compactMap { number, messageID in
                messageID.map { ProviderStatusBook.TencentReport(serialNo: $0, number: number, context: context) }
            })
    }

    /// `PullSmsSendStatus`: up to `Limit` (at most 100) reports, each handed out once.
    private func pullTencentReports(_ body: [UInt8]) -> Response {
        guard let document = try? JSONValue.parse(body), let limit = document[path: "Limit"]?.text.flatMap({ Int($0) }),
            (1...TencentSMS.pullLimit).contains(limit)
        else { return Self.tencentError("InvalidParameterValue", "Limit is 1 to 100") }
        return Self.tencentAnswer { response in
            response.field("PullSmsSendStatusSet") { set in
                set.array { array in
                    for report in statuses.pullTencent(limit: limit) {
                        array.object { status in
                            status.field("UserReceiveTime", Int(Date().timeIntervalSince1970))
                            status.field("CountryCode", "86")
                            status.field("SubscriberNumber", String(report.number.filter(\.isNumber).suffix(11)))
                            status.field("PhoneNumber", report.number)
                            status.field("SerialNo", report.serialNo)
                            status.field("ReportStatus", "SUCCESS")
                            status.field("Description", "DELIVRD")
                            status.field("SessionContext", report.context)
                        }
                    }
                }
            }
        }
    }

    /// A whole request refused as Tencent Cloud refuses one: HTTP 200 with `Response.Error`.
    static func tencentError(_ code: String, _ message: String) -> Response {
        tencentAnswer { response in
            response.field("Error") { error in
                error.object { error in
                    error.field("Code", code)
                    error.field("Message", message)
                }
            }
        }
    }

    /// Tencent Cloud's answer: HTTP 200 with `{"Response": {…, "RequestId": …}}`, `fields` writing what comes before
    /// the request's id.
    static func tencentAnswer(_ fields: (inout JSONWriter) -> Void) -> Response {
        var json = JSONWriter()
        json.object { object in
            object.field("Response") { response in
                response.object { response in
                    fields(&response)
                    response.field("RequestId", UUID().uuidString.lowercased())
                }
            }
        }
        return jsonAnswer(json.bytes)
    }
}
