import Crypto

/// Shopify's webhook signature: `X-Shopify-Hmac-Sha256` is the standard base64 of HMAC-SHA256 over the raw body,
/// keyed with the app's client secret. Checked on the bytes as received, before anything is parsed.
///
/// ```swift
/// ShopifyWebhookSignature.isValid(header: request.headers["X-Shopify-Hmac-Sha256"], body: body, secret: secret)
/// ```
public enum ShopifyWebhookSignature {
    /// The header that carries it.
    public static let header = "X-Shopify-Hmac-Sha256"

    /// The header's value for `body`, as Shopify computes it.
    public static func signature(body: [UInt8], secret: String) -> String {
        Base64.encode(Array(HMAC<SHA256>.authenticationCode(for: body, using: key(secret))))
    }

    /// Whether `header` is the signature of `body` under `secret`, compared in constant time.
    public static func isValid(header: String?, body: [UInt8], secret: String) -> Bool {
        guard var header, !header.isEmpty else { return false }
        let presented = header.withUTF8 { Base64.decode($0) }
        return presented.count == SHA256.byteCount
            && HMAC<SHA256>.isValidAuthenticationCode(presented, authenticating: body, using: key(secret))
    }

    private static func key(_ secret: String) -> SymmetricKey { SymmetricKey(data: Array(secret.utf8)) }
}
