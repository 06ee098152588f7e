/// Alibaba Cloud's V3 request signature, `ACS3-HMAC-SHA256`, sent in the `Authorization` header, for RPC-style APIs
/// (whose path is `/`). Pure: the caller sets `x-acs-date` and `x-acs-signature-nonce` among the headers.
///
/// ```swift
/// let signed = AlibabaV3Signature(
///     method: .POST, query: [], headers: [("host", "dysmsapi.aliyuncs.com"), ("x-acs-action", "SendSms"), …],
///     body: body, accessKeyID: id, secret: secret)
/// // send the headers, `x-acs-content-sha256: \(signed.hashedPayload)` and `Authorization: \(signed.authorization)`
/// ```
public struct AlibabaV3Signature: Sendable, Hashable {
    /// Lower-case hex of the SHA-256 of the body: the value of the `x-acs-content-sha256` header, which is signed.
    public let hashedPayload: String
    /// The names of the signed headers, lower-cased, sorted and joined with `;`.
    public let signedHeaders: String
    /// The method, `/`, the canonical query, the canonical headers, the signed headers and the hashed payload, each
    /// followed by a line break but the last.
    public let canonicalRequest: String
    /// `ACS3-HMAC-SHA256`, a line break, and the lower-case hex SHA-256 of the canonical request.
    public let stringToSign: String
    /// Lower-case hex of the HMAC-SHA256 of the string to sign, keyed with the secret itself.
    public let signature: String
    /// The `Authorization` header's value: `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`.
    public let authorization: String

    /// Signs a request.
    /// - Parameters:
    ///   - method: The HTTP method the request is sent with.
    ///   - query: The query parameters, in any order, not yet percent-encoded.
    ///   - headers: The request's headers. `host`, `content-type` and every `x-acs-*` header are signed, names in
    ///     any case; `x-acs-content-sha256` is left out: it is `hashedPayload`, computed from the body.
    ///   - body: The request's body, as sent.
    ///   - accessKeyID: The AccessKey ID.
    ///   - secret: The AccessKey secret.
    public init(
        method: GatewayDialect.Method, query: [(String, String)], headers: [(String, String)], body: [UInt8],
        accessKeyID: String, secret: Secret
    ) {
        hashedPayload = CanonicalForm.sha256Hex(body)
        let signed = headers.filter {
            let name = $0.0.lowercased()
            return name == "host" || name == "content-type"
                || (name.hasPrefix("x-acs-") && name != "x-acs-content-sha256")
        }
        let canonical = CanonicalForm.headers(signed + [("x-acs-content-sha256", hashedPayload)])
        signedHeaders = canonical.names
        canonicalRequest = [
            method.rawValue, "/", CanonicalForm.query(query), canonical.lines, signedHeaders, hashedPayload,
        ].joined(separator: "\n")
        stringToSign = "ACS3-HMAC-SHA256\n" + CanonicalForm.sha256Hex(canonicalRequest.utf8)
        signature = Hex.string(CanonicalForm.hmacSHA256(key: Array(secret.value.utf8), stringToSign))
        authorization =
            "ACS3-HMAC-SHA256 Credential=\(accessKeyID),SignedHeaders=\(signedHeaders),Signature=\(signature)"
    }
}
