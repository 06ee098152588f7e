/// Tencent Cloud's request signature, `TC3-HMAC-SHA256`, sent in the `Authorization` header of a `POST` to `/` with
/// no query string (how the SMS API is called). Pure: the caller passes the timestamp it sends in `X-TC-Timestamp`.
///
/// ```swift
/// let signed = TencentTC3Signature(
///     service: "sms", host: "sms.tencentcloudapi.com", contentType: "application/json; charset=utf-8",
///     action: "SendSms", body: body, timestamp: now, secretID: id, secret: secret)
/// // send `Authorization: \(signed.authorization)`
/// ```
public struct TencentTC3Signature: Sendable, Hashable {
    /// Lower-case hex of the SHA-256 of the body.
    public let hashedPayload: String
    /// The names of the signed headers: `content-type;host`, or `content-type;host;x-tc-action` when the action
    /// is signed.
    public let signedHeaders: String
    /// `POST`, `/`, an empty query, the canonical headers, the signed headers and the hashed payload, each followed
    /// by a line break but the last.
    public let canonicalRequest: String
    /// `<date>/<service>/tc3_request`, the date being the timestamp's UTC date (`YYYY-MM-DD`).
    public let credentialScope: String
    /// `TC3-HMAC-SHA256`, the timestamp in Unix seconds, the credential scope and the lower-case hex SHA-256 of the
    /// canonical request, one a line.
    public let stringToSign: String
    /// Lower-case hex of the HMAC-SHA256 of the string to sign, keyed with the signing key derived from the secret,
    /// the date and the service.
    public let signature: String
    /// The `Authorization` header's value: `TC3-HMAC-SHA256 Credential=…/…, SignedHeaders=…, Signature=…`.
    public let authorization: String

    /// Signs a request.
    /// - Parameters:
    ///   - service: The product, the first label of the host (`sms`).
    ///   - host: The `Host` header, as sent.
    ///   - contentType: The `Content-Type` header, as sent.
    ///   - action: The `X-TC-Action` header, to sign it too (lower-cased in the canonical headers); nil signs only
    ///     `content-type` and `host`.
    ///   - body: The request's body, as sent.
    ///   - timestamp: The instant sent in `X-TC-Timestamp`.
    ///   - secretID: The SecretId.
    ///   - secret: The SecretKey.
    public init(
        service: String, host: String, contentType: String, action: String? = nil, body: [UInt8],
        timestamp: Timestamp, secretID: String, secret: Secret
    ) {
        hashedPayload = CanonicalForm.sha256Hex(body)
        var headers = [("content-type", contentType), ("host", host)]
        if let action { headers.append(("x-tc-action", action.lowercased())) }
        let canonical = CanonicalForm.headers(headers)
        signedHeaders = canonical.names
        canonicalRequest = ["POST", "/", "", canonical.lines, signedHeaders, hashedPayload].joined(separator: "\n")
        let date = Self.date(of: timestamp)
        credentialScope = "\(date)/\(service)/tc3_request"
        stringToSign = [
            "TC3-HMAC-SHA256", String(timestamp.secondsSince1970), credentialScope,
            CanonicalForm.sha256Hex(canonicalRequest.utf8),
        ].joined(separator: "\n")
        let key = Self.derivedKeys(secret: secret, date: date, service: service).signing
        signature = Hex.string(CanonicalForm.hmacSHA256(key: key, stringToSign))
        authorization =
            "TC3-HMAC-SHA256 Credential=\(secretID)/\(credentialScope), SignedHeaders=\(signedHeaders), "
            + "Signature=\(signature)"
    }

    /// The UTC date of an instant, `YYYY-MM-DD`.
    static func date(of timestamp: Timestamp) -> String {
        String(decoding: timestamp.rfc3339Bytes.prefix(10), as: UTF8.self)
    }

    /// The keys derived from the secret, each the HMAC-SHA256 of a text under the one before: the date under `TC3`
    /// followed by the secret, then the service, then `tc3_request` (the signing key).
    static func derivedKeys(
        secret: Secret, date: String, service: String
    ) -> (date: [UInt8], service: [UInt8], signing: [UInt8]) {
        let dateKey = CanonicalForm.hmacSHA256(key: Array(("TC3" + secret.value).utf8), date)
        let serviceKey = CanonicalForm.hmacSHA256(key: dateKey, service)
        return (dateKey, serviceKey, CanonicalForm.hmacSHA256(key: serviceKey, "tc3_request"))
    }
}
