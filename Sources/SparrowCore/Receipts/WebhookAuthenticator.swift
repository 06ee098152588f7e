import Crypto

/// Checks the credentials of a request to Sparrow's webhook: a shared token sent as `Authorization: Bearer …`, or
/// an HMAC-SHA256 signature of `timestamp + "." + body`, as hex in `X-Sparrow-Signature`, with the timestamp (Unix
/// seconds) in `X-Sparrow-Timestamp`. A signed request is refused when its timestamp is more than `tolerance`
/// seconds from now, so that a captured request cannot be replayed later. Tokens and signatures are compared in
/// constant time. With neither a token nor a secret configured, every request is admitted.
///
/// ```swift
/// let authenticator = WebhookAuthenticator(token: nil, hmacSecret: "k3y")
/// let signature = WebhookAuthenticator.signature(secret: "k3y", timestamp: "1800000000", body: body)
/// try authenticator.check(
///     authorization: nil, timestamp: "1800000000", signature: signature, body: body,
///     now: Timestamp(secondsSince1970: 1_800_000_100))  // admitted: 100 s apart
/// ```
public struct WebhookAuthenticator: Sendable {
    /// Why a request's credentials were refused: the code (also the label of the webhook's rejection metric) and a
    /// short message for the answer, which never repeats what the request sent.
    public struct Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        public struct Code: Hashable, Sendable, CustomStringConvertible {
            private enum Wrapped: String {
                case missingCredentials = "missing-credentials", badToken = "bad-token", badSignature = "bad-signature"
                case staleTimestamp = "stale-timestamp"
            }
            private let wrapped: Wrapped
            public var description: String { wrapped.rawValue }

            public static var missingCredentials: Self { .init(wrapped: .missingCredentials) }
            public static var badToken: Self { .init(wrapped: .badToken) }
            public static var badSignature: Self { .init(wrapped: .badSignature) }
            /// The timestamp is not Unix seconds, or too far from now.
            public static var staleTimestamp: Self { .init(wrapped: .staleTimestamp) }
        }

        public var code: Code
        public var message: String

        init(_ code: Code, _ message: String) {
            self.code = code
            self.message = message
        }

        public var description: String { message }
    }

    /// The header that carries a signed request's timestamp.
    public static let timestampHeader = "X-Sparrow-Timestamp"
    /// The header that carries a signed request's signature.
    public static let signatureHeader = "X-Sparrow-Signature"
    /// How far, in seconds, a signed request's timestamp may be from now, either way.
    public static let tolerance: Int64 = 300

    private let token: [UInt8]?
    private let secret: [UInt8]?

    /// - Parameters:
    ///   - token: the shared bearer token, if callers may use one.
    ///   - hmacSecret: the signing secret, if callers may sign.
    public init(token: String?, hmacSecret: String?) {
        self.token = token.map { Array($0.utf8) }
        secret = hmacSecret.map { Array($0.utf8) }
    }

    /// Checks one request. A signature is checked when the request carries one and a secret is configured;
    /// otherwise the bearer token.
    /// - Parameters:
    ///   - authorization: the `Authorization` header.
    ///   - timestamp: the `X-Sparrow-Timestamp` header.
    ///   - signature: the `X-Sparrow-Signature` header.
    ///   - body: the request's body, as received.
    /// - Throws: `Refusal` when the request is not admitted.
    public func check(
        authorization: String?, timestamp: String?, signature: String?, body: [UInt8], now: Timestamp
    ) throws(Refusal) {
        if let secret, let signature {
            guard let timestamp, let seconds = Int64(timestamp) else {
                throw Refusal(.staleTimestamp, "\(Self.timestampHeader) must be Unix seconds")
            }
            let earliest = now.secondsSince1970 - Self.tolerance
            guard (earliest...now.secondsSince1970 + Self.tolerance).contains(seconds) else {
                throw Refusal(.staleTimestamp, "the timestamp is more than \(Self.tolerance) s from now")
            }
            guard let presented = Hex.bytes(signature),
                Self.code(secret: secret, timestamp: timestamp, body: body) == presented
            else { throw Refusal(.badSignature, "bad signature") }
        } else if let token, let authorization {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer",
                SHA256.hash(data: Array(parts[1].utf8)) == SHA256.hash(data: token)  // digests compare in constant time
            else { throw Refusal(.badToken, "bad credentials") }
        } else if token != nil || secret != nil {
            throw Refusal(.missingCredentials, "credentials needed: a bearer token or a signature")
        }
    }

    /// The signature of a request, as a caller computes it: HMAC-SHA256 of `timestamp + "." + body`, lower-case hex.
    public static func signature(secret: String, timestamp: String, body: [UInt8]) -> String {
        Hex.string(code(secret: Array(secret.utf8), timestamp: timestamp, body: body))
    }

    private static func code(secret: [UInt8], timestamp: String, body: [UInt8]) -> HashedAuthenticationCode<SHA256> {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        mac.update(data: Array(timestamp.utf8))
        mac.update(data: [UInt8(ascii: ".")])
        mac.update(data: body)
        return mac.finalize()
    }
}
