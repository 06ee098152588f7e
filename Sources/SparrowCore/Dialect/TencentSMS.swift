/// Tencent Cloud SMS, `SendSms` of API version 2021-01-11: up to 200 numbers a request with one approved template
/// and one set of its parameters, signed with `TC3-HMAC-SHA256`, answered with a result per number.
///
/// ```swift
/// let tencent = TencentSMS(endpoint: "https://sms.tencentcloudapi.com", region: "ap-guangzhou",
///                          sdkAppID: "1400006666", signName: "青禾旗舰店", secretID: id, secretKey: key)
/// tencent.request(batch: contents, now: now)   // POST / with X-TC-Action: SendSms, Authorization: TC3-HMAC-SHA256 …
/// tencent.read(status: 200, body: answer, batch: contents)  // a reading per number, classified by its Code
/// ```
public struct TencentSMS: Sendable, Hashable {
    public static let maxNumbers = 200
    public static let version = "2021-01-11"
    public static let contentType = "application/json; charset=utf-8"

    /// `https://sms.tencentcloudapi.com`, or a regional endpoint (`https://sms.ap-guangzhou.tencentcloudapi.com`).
    public var endpoint: String
    public var region: String
    /// The SMS application's `SmsSdkAppId`.
    public var sdkAppID: String
    /// The approved signature, without its 【】.
    public var signName: String
    public var secretID: String
    public var secretKey: Secret

    public init(
        endpoint: String = "https://sms.tencentcloudapi.com", region: String, sdkAppID: String, signName: String,
        secretID: String, secretKey: Secret
    ) {
        self.endpoint = endpoint
        self.region = region
        self.sdkAppID = sdkAppID
        self.signName = signName
        self.secretID = secretID
        self.secretKey = secretKey
    }

    /// The `Host` a request to the endpoint carries, which the signature covers: its authority, port included.
    public var host: String {
        let afterScheme = endpoint.split(separator: "://", maxSplits: 1).last ?? Substring(endpoint)
        return String(afterScheme.prefix { $0 != "/" && $0 != "?" })
    }

    /// The `SendSms` request for `contents`: their numbers, with the first one's template id and parameters.
    /// - Returns: the request, or `template_id` missing when the message is not an approved template's.
    /// - Precondition: 1 to 200 messages, with one template and the same parameters.
    public func request(batch contents: [SubmitContent], now: Timestamp) -> Result<EncodedRequest, MissingVariable> {
        guard let first = contents.first, contents.count <= Self.maxNumbers else {
            preconditionFailure("a Tencent Cloud request carries 1 to \(Self.maxNumbers) numbers")
        }
        guard let templateID = first.templateID else { return .failure(MissingVariable(name: "template_id")) }
        var json = JSONWriter(capacity: 256 + 20 * contents.count)
        json.object { object in
            object.field("PhoneNumberSet") { numbers in
                numbers.array { array in for content in contents { array.element(content.to) } }
            }
            object.field("SmsSdkAppId", sdkAppID)
            object.field("SignName", signName)
            object.field("TemplateId", templateID)
            object.field("TemplateParamSet") { parameters in
                parameters.array { array in for parameter in first.parameters { array.element(parameter) } }
            }
            object.field("SessionContext", first.id)
        }
        return .success(signed(action: "SendSms", body: json.bytes, now: now))
    }

    /// Statuses a `PullSmsSendStatus` takes at most.
    public static let pullLimit = 100

    /// `PullSmsSendStatus`: the application's next delivery reports, at most `limit`. Tencent Cloud hands each report
    /// out once, to a pull or to the receipts push, whichever is configured.
    public func pullStatusRequest(limit: Int = pullLimit, now: Timestamp) -> EncodedRequest {
        var json = JSONWriter()
        json.object { object in
            object.field("Limit", min(max(limit, 1), Self.pullLimit))
            object.field("SmsSdkAppId", sdkAppID)
        }
        return signed(action: "PullSmsSendStatus", body: json.bytes, now: now)
    }

    /// The reports a `PullSmsSendStatus` answer holds: `Response.PullSmsSendStatusSet`, each with its `SerialNo`,
    /// number, `SessionContext` and `ReportStatus` (`SUCCESS` or `FAIL` with its `Description`).
    public func readPulledStatuses(status: Int, body: [UInt8]) -> Result<StatusPage, StatusQueryError> {
        guard (200..<300).contains(status), let document = try? JSONValue.parse(body) else {
            return .failure(StatusQueryError(reason: "HTTP \(status): the answer is not Tencent Cloud's JSON"))
        }
        if let code = document[path: "Response.Error.Code"]?.text {
            let message = document[path: "Response.Error.Message"]?.text ?? ""
            return .failure(StatusQueryError(reason: message.isEmpty ? code : "\(code): \(message)"))
        }
        guard case .array(let reports)? = document[path: "Response.PullSmsSendStatusSet"] else {
            return .failure(StatusQueryError(reason: "the answer has no Response.PullSmsSendStatusSet"))
        }
        return .success(
            StatusPage(
                statuses: reports.compactMap { report in
                    guard let number = report[path: "PhoneNumber"]?.text else { return nil }
                    let delivered = report[path: "ReportStatus"]?.text == "SUCCESS"
                    let context = report[path: "SessionContext"]?.text
                    return ProviderStatus(
                        number: number, gatewayID: report[path: "SerialNo"]?.text,
                        context: context?.isEmpty == false ? context : nil,
                        state: delivered ? .delivered : .undelivered,
                        error: delivered ? nil : report[path: "Description"]?.text)
                }))
    }

    /// A request to the API's `action`, signed.
    private func signed(action: String, body: [UInt8], now: Timestamp) -> EncodedRequest {
        let signature = TencentTC3Signature(
            service: "sms", host: host, contentType: Self.contentType, action: action, body: body,
            timestamp: now, secretID: secretID, secret: secretKey)
        return EncodedRequest(
            url: endpoint, method: .POST,
            headers: [
                "Content-Type: \(Self.contentType)", "X-TC-Action: \(action)", "X-TC-Version: \(Self.version)",
                "X-TC-Region: \(region)", "X-TC-Timestamp: \(now.secondsSince1970)",
                "Authorization: \(signature.authorization)",
            ],
            body: body)
    }

    /// What an answer means: `Response.Error` for the whole request, else `Response.SendStatusSet`, a result per
    /// number (matched by its digits), each read by its `Code`.
    public func read(status: Int, body: [UInt8], batch contents: [SubmitContent]) -> GatewayDialect.BatchReading {
        guard (200..<300).contains(status), let document = try? JSONValue.parse(body) else {
            return .whole(.refusal(status: status, reason: nil, body: body))
        }
        if let code = document[path: "Response.Error.Code"]?.text {
            let message = document[path: "Response.Error.Message"]?.text ?? ""
            return .whole(Self.reading(code: code, message: message, status: status, serialNo: nil))
        }
        guard case .array(let results)? = document[path: "Response.SendStatusSet"] else {
            return .whole(.rejected(status: status, reason: "the answer has no Response.SendStatusSet"))
        }
        var byNumber: [String: JSONValue] = [:]
        for result in results {
            if let number = result[path: "PhoneNumber"]?.text { byNumber[GatewayDialect.digits(number)] = result }
        }
        return .each(
            contents.map { content in
                byNumber[GatewayDialect.digits(content.to)].map { result in
                    Self.reading(
                        code: result[path: "Code"]?.text ?? "", message: result[path: "Message"]?.text ?? "",
                        status: status, serialNo: result[path: "SerialNo"]?.text)
                }
            })
    }

    /// What one of Tencent Cloud's codes means for the message (or the request) it answers.
    static func reading(code: String, message: String, status: Int, serialNo: String?) -> AnswerReading {
        ProviderCode.reading(
            code: code, message: message, status: status, accepted: "Ok", gatewayID: serialNo, codes: codes)
    }

    /// Tencent Cloud's codes that are not plain refusals.
    static let codes: [String: ProviderCode] = [
        "InternalError.Timeout": .retry, "InternalError.SendAndRecvFail": .retry, "RequestLimitExceeded": .retry,
        "InternalError.OtherError": .retry, "FailedOperation.JsonParseFail": .retry,
        "InternalError.RequestTimeException": .clockSkew, "AuthFailure.SignatureExpire": .clockSkew,
        "LimitExceeded.PhoneNumberThirtySecondLimit": .deferred(.seconds(30)),
        "LimitExceeded.PhoneNumberOneHourLimit": .deferred(.seconds(3600)),
        "LimitExceeded.DeliveryFrequencyLimit": .deferred(.seconds(3600)),
        "FailedOperation.MarketingSendTimeConstraint": .deferred(.seconds(3600)),
        "LimitExceeded.PhoneNumberDailyLimit": .deferred(.seconds(86_400)),
        "LimitExceeded.PhoneNumberSameContentDailyLimit": .deferred(.seconds(86_400)),
        "LimitExceeded.AppDailyLimit": .deferred(.seconds(86_400)),
        "LimitExceeded.DailyLimit": .deferred(.seconds(86_400)),
        "LimitExceeded.AppCountryOrRegionDailyLimit": .deferred(.seconds(86_400)),
        "FailedOperation.PhoneNumberInBlacklist": .blacklisted,
        "UnsupportedOperation.PhoneNumberInBlacklist": .blacklisted,
    ]
}

extension ReceiptMapping {
    /// Tencent Cloud's pushed receipts: a JSON array of `{"sid", "mobile", "report_status": "SUCCESS" | "FAIL",
    /// "errmsg": "DELIVRD", …}`, answered `{"result":0,"errmsg":"OK"}`.
    public static let tencent = ReceiptMapping(
        idFields: ["sid"], statusFields: ["report_status"], errorFields: ["errmsg", "description"],
        answer: #"{"result":0,"errmsg":"OK"}"#, words: [.delivered: ["SUCCESS"], .undelivered: ["FAIL"]])
}
