import HTTPTypes
import Hummingbird
import SparrowCore

extension GatewaySimulator {
    /// A provider's API key, as its request signatures use it: Tencent Cloud's SecretId and SecretKey, Alibaba
    /// Cloud's AccessKey id and secret.
    public struct KeyPair: Sendable, Hashable {
        public var id: String
        public var secret: String

        public init(id: String, secret: String) {
            self.id = id
            self.secret = secret
        }

        /// `ID:SECRET`, as the command line gives it; nil without the colon.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            self.init(id: String(parts[0]), secret: String(parts[1]))
        }
    }

    /// The credentials the simulator demands, as the example dialects send them; a request without them is
    /// answered 401 and is not a message.
    public enum Auth: Sendable, Hashable {
        case bearer(token: String)
        case basic(username: String, password: String)
        /// HMAC-SHA256 of the timestamp header followed by the body, hex, in `header`.
        case hmac(secret: String, header: String = "X-Signature", timestampHeader: String = "X-Timestamp")

        /// Whether `request`, with its collected `body`, carries the credentials.
        func admits(_ request: Request, body: [UInt8]) -> Bool {
            func header(_ name: String) -> String? { HTTPField.Name(name).flatMap { request.headers[$0] } }
            switch self {
            case .bearer(let token):
                return header("Authorization") == "Bearer \(token)"
            case .basic(let username, let password):
                return header("Authorization") == "Basic " + Base64.encode(Array("\(username):\(password)".utf8))
            case .hmac(let secret, let signatureHeader, let timestampHeader):
                guard let timestamp = header(timestampHeader), let signature = header(signatureHeader) else {
                    return false
                }
                return signature == GatewayDialect.signature(secret: secret, timestamp: timestamp, body: body)
            }
        }
    }
}
