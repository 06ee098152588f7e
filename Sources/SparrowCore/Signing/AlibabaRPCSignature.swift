import Crypto

/// Alibaba Cloud's RPC-style request signature, version 1.0 (`SignatureMethod=HMAC-SHA1`), which the SMS API
/// (dysmsapi) takes in the query string. Pure: the caller puts the nonce and the timestamp among the parameters.
///
/// ```swift
/// let signed = AlibabaRPCSignature(method: .GET, parameters: [("Action", "SendSms"), …], secret: secret)
/// let url = "https://dysmsapi.aliyuncs.com/?" + signed.signedQuery
/// ```
public struct AlibabaRPCSignature: Sendable, Hashable {
    /// The parameters sorted by name, each name and value percent-encoded, joined as `name=value` with `&`.
    public let canonicalizedQuery: String
    /// `METHOD&%2F&` followed by the canonicalized query, percent-encoded once more.
    public let stringToSign: String
    /// Base64 of the HMAC-SHA1 of the string to sign, keyed with the secret followed by `&`.
    public let signature: String

    /// Signs a request's parameters.
    /// - Parameters:
    ///   - method: The HTTP method the request is sent with.
    ///   - parameters: Every parameter but `Signature`, in any order, not yet percent-encoded.
    ///   - secret: The AccessKey secret.
    public init(method: GatewayDialect.Method, parameters: [(String, String)], secret: Secret) {
        canonicalizedQuery = CanonicalForm.query(parameters)
        stringToSign = method.rawValue + "&%2F&" + FormEncoding.escape(canonicalizedQuery)
        let code = HMAC<Insecure.SHA1>.authenticationCode(
            for: Array(stringToSign.utf8), using: SymmetricKey(data: Array((secret.value + "&").utf8)))
        signature = Base64.encode(Array(code))
    }

    /// The query string to send: the canonicalized query followed by `&Signature=` and the percent-encoded signature.
    public var signedQuery: String { canonicalizedQuery + "&Signature=" + FormEncoding.escape(signature) }
}
