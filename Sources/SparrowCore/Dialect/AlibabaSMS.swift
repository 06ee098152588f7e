/// Alibaba Cloud SMS (dysmsapi, API version 2017-05-25) in its RPC style: a form `POST` signed with HMAC-SHA1,
/// `SendSms` (up to 1,000 numbers with one set of an approved template's parameters) or `SendBatchSms` (up to 100
/// numbers, each with its own parameters). Its answer is about the whole request: one `BizId` for all its numbers.
///
/// ```swift
/// let aliyun = AlibabaSMS(endpoint: "https://dysmsapi.aliyuncs.com/", region: "cn-hangzhou", signName: "青禾旗舰店",
///                         accessKeyID: id, accessKeySecret: secret, api: .sendSms)
/// aliyun.request(batch: contents, now: now, attempt: 1)  // POST Action=SendSms&…&Signature=…
/// aliyun.read(status: 200, body: answer)  // .accepted(gatewayID: BizId), or a code classified
/// ```
public struct AlibabaSMS: Sendable, Hashable {
    public static let version = "2017-05-25"

    /// Which of the two sending calls a gateway makes.
    public enum API: String, Sendable, Hashable, CaseIterable {
        /// One text for up to 1,000 numbers: the messages of a request share their parameters.
        case sendSms = "SendSms"
        /// Up to 100 numbers, each with its own parameters.
        case sendBatchSms = "SendBatchSms"

        /// Numbers a request carries at most.
        public var maxNumbers: Int { self == .sendSms ? 1000 : 100 }
    }

    /// `https://dysmsapi.aliyuncs.com/`, or a regional endpoint.
    public var endpoint: String
    public var region: String
    /// The approved signature, without its 【】.
    public var signName: String
    public var accessKeyID: String
    public var accessKeySecret: Secret
    public var api: API

    public init(
        endpoint: String = "https://dysmsapi.aliyuncs.com/", region: String = "cn-hangzhou", signName: String,
        accessKeyID: String, accessKeySecret: Secret, api: API = .sendSms
    ) {
        self.endpoint = endpoint
        self.region = region
        self.signName = signName
        self.accessKeyID = accessKeyID
        self.accessKeySecret = accessKeySecret
        self.api = api
    }

    /// The signed request for `contents`. `attempt` (from 1) makes each attempt's `SignatureNonce` its own, as Alibaba
    /// demands.
    /// - Returns: the request, or `template_id` missing when the message is not an approved template's.
    /// - Precondition: 1 to `api.maxNumbers` messages; with `sendSms`, one set of parameters.
    public func request(
        batch contents: [SubmitContent], now: Timestamp, attempt: Int
    ) -> Result<EncodedRequest, MissingVariable> {
        guard let first = contents.first, contents.count <= api.maxNumbers else {
            preconditionFailure("an Alibaba Cloud \(api.rawValue) carries 1 to \(api.maxNumbers) numbers")
        }
        guard let templateCode = first.templateID else { return .failure(MissingVariable(name: "template_id")) }
        var parameters = [("TemplateCode", templateCode), ("OutId", first.id)]
        switch api {
        case .sendSms:
            parameters += [
                ("PhoneNumbers", contents.map(\.to).joined(separator: ",")), ("SignName", signName),
                ("TemplateParam", Self.text(Self.parameters(of: first))),
            ]
        case .sendBatchSms:
            parameters += [
                ("PhoneNumberJson", Self.text(.array(contents.map { .string($0.to) }))),
                ("SignNameJson", Self.text(.array(contents.map { _ in .string(signName) }))),
                ("TemplateParamJson", Self.text(.array(contents.map(Self.parameters)))),
            ]
        }
        return .success(
            signed(
                action: api.rawValue, parameters,
                nonce: "\(first.id).\(contents.count).\(attempt).\(now.secondsSince1970)", now: now))
    }

    /// Records a `QuerySendDetails` answer holds at most.
    public static let queryPageSize = 50

    /// `QuerySendDetails`: what Alibaba Cloud knows of the messages it took for `number` on `sendDate` (`yyyyMMdd`,
    /// China's date, within the last 30 days), only request `bizID`'s when given. `page` counts from 1; `nonce` is
    /// the request's own: Alibaba refuses one it has seen.
    public func queryRequest(
        number: String, sendDate: String, bizID: String?, page: Int, now: Timestamp, nonce: String
    ) -> EncodedRequest {
        var parameters = [
            ("PhoneNumber", number), ("SendDate", sendDate), ("PageSize", "\(Self.queryPageSize)"),
            ("CurrentPage", "\(page)"),
        ]
        if let bizID { parameters.append(("BizId", bizID)) }
        return signed(action: "QuerySendDetails", parameters, nonce: nonce, now: now)
    }

    /// The records a `QuerySendDetails` answer holds: `SmsSendDetailDTOs.SmsSendDetailDTO`, each with its number,
    /// `OutId` and `SendStatus` (1 waiting for the carrier's report, 2 failed with its `ErrCode`, 3 delivered).
    public func readDetails(status: Int, body: [UInt8]) -> Result<StatusPage, StatusQueryError> {
        guard let document = try? JSONValue.parse(body), let code = document[path: "Code"]?.text else {
            return .failure(StatusQueryError(reason: "HTTP \(status): the answer is not Alibaba Cloud's JSON"))
        }
        guard code == "OK" else {
            let message = document[path: "Message"]?.text ?? ""
            return .failure(StatusQueryError(reason: message.isEmpty ? code : "\(code): \(message)"))
        }
        var records: [JSONValue] = []
        if case .array(let list)? = document[path: "SmsSendDetailDTOs.SmsSendDetailDTO"] { records = list }
        return .success(
            StatusPage(
                statuses: records.compactMap { record in
                    guard let number = record[path: "PhoneNum"]?.text else { return nil }
                    let state: MessageState =
                        switch record[path: "SendStatus"]?.text {
                        case "3": .delivered
                        case "2": .undelivered
                        default: .accepted
                        }
                    return ProviderStatus(
                        number: number, gatewayID: nil, context: record[path: "OutId"]?.text, state: state,
                        error: state == .undelivered ? record[path: "ErrCode"]?.text : nil)
                },
                total: document[path: "TotalCount"]?.text.flatMap { Int($0) }))
    }

    /// The date a `QuerySendDetails` names the day of `instant` by: `yyyyMMdd` in China (UTC+8).
    public static func sendDate(of instant: Timestamp) -> String {
        let date = CivilDate(daysSince1970: (instant.secondsSince1970 + 8 * 3600).floorDivided(by: 86_400))
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return padded(date.year, 4) + padded(date.month, 2) + padded(date.day, 2)
    }

    /// A call to the API's `action` with `parameters` beside the common ones, signed.
    private func signed(
        action: String, _ parameters: [(String, String)], nonce: String, now: Timestamp
    ) -> EncodedRequest {
        let common = [
            ("AccessKeyId", accessKeyID), ("Action", action), ("Format", "JSON"), ("RegionId", region),
            ("SignatureMethod", "HMAC-SHA1"), ("SignatureVersion", "1.0"), ("SignatureNonce", nonce),
            ("Timestamp", String(decoding: now.rfc3339Bytes, as: UTF8.self)), ("Version", Self.version),
        ]
        let signature = AlibabaRPCSignature(method: .POST, parameters: common + parameters, secret: accessKeySecret)
        return EncodedRequest(
            url: endpoint, method: .POST, headers: ["Content-Type: application/x-www-form-urlencoded"],
            body: Array(signature.signedQuery.utf8))
    }

    /// A message's template parameters as Alibaba takes them: `{"name":"value",…}`.
    static func parameters(of content: SubmitContent) -> JSONValue {
        .object(zip(content.parameterNames, content.parameters).map { .init(key: $0, value: .string($1)) })
    }

    private static func text(_ value: JSONValue) -> String {
        var json = JSONWriter()
        json.element(value)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// What an answer means, for the whole request: `Code` `OK` with its `BizId`, or a code classified.
    public func read(status: Int, body: [UInt8]) -> AnswerReading {
        guard let document = try? JSONValue.parse(body), let code = document[path: "Code"]?.text else {
            return .refusal(status: status, reason: nil, body: body)
        }
        return Self.reading(
            code: code, message: document[path: "Message"]?.text ?? "", status: status,
            bizID: document[path: "BizId"]?.text)
    }

    /// What one of Alibaba Cloud's codes means for the request it answers.
    static func reading(code: String, message: String, status: Int, bizID: String?) -> AnswerReading {
        ProviderCode.reading(
            code: code, message: message, status: status, accepted: "OK", gatewayID: bizID, codes: codes)
    }

    /// Alibaba Cloud's codes that are not plain refusals.
    static let codes: [String: ProviderCode] = [
        "isp.SYSTEM_ERROR": .retry, "isp.GATEWAY_ERROR": .retry, "Throttling": .retry, "Throttling.User": .retry,
        "Throttling.Api": .retry, "ServiceUnavailable": .retry, "SignatureNonceUsed": .retry,
        "InvalidTimeStamp.Expired": .clockSkew,
        "isv.BUSINESS_LIMIT_CONTROL": .deferred(.seconds(3600)),
        "isv.DAY_LIMIT_CONTROL": .deferred(.seconds(86_400)), "isv.MONTH_LIMIT_CONTROL": .deferred(.seconds(86_400)),
    ]
}

extension ReceiptMapping {
    /// Alibaba Cloud's pushed receipts (SmsReport): a JSON array of `{"phone_number", "success": true | false,
    /// "err_code", "biz_id", "out_id", …}`, answered `{"code":0,"msg":"接收成功"}`. A receipt names the request
    /// (`biz_id`) and the number, as Sparrow names a message sent in a batch.
    public static let aliyun = ReceiptMapping(
        idFields: ["biz_id"], statusFields: ["success"], errorFields: ["err_code", "err_msg"],
        recipientFields: ["phone_number"], recipientRegion: "CN", answer: #"{"code":0,"msg":"接收成功"}"#,
        words: [.delivered: ["true"], .undelivered: ["false"]])
}
