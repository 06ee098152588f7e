/// One HTTP request to a gateway, as plain values that cross into the transport's thread.
public struct GatewayRequest: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        case get = "GET", post = "POST", put = "PUT"
    }

    /// How the transport talks to one gateway: everything that is the same for all of its requests.
    public struct Connection: Sendable, Hashable {
        public enum HTTPVersion: Sendable, Hashable {
            /// HTTP/1.1 with keep-alive: the default, and the cheapest per message with curl 7.88.
            case http1_1
            /// HTTP/2 over TLS, multiplexed: for a gateway that limits connections.
            case http2
        }

        public var httpVersion: HTTPVersion
        public var connectTimeout: Duration
        /// Verify the gateway's certificate and host name (on unless a gateway's configuration says otherwise).
        public var verifyTLS: Bool
        /// A CA bundle to trust instead of the system's (tests use a CA they generate).
        public var caFile: String?
        public var followRedirects: Bool

        public init(
            httpVersion: HTTPVersion = .http1_1, connectTimeout: Duration = .seconds(3), verifyTLS: Bool = true,
            caFile: String? = nil, followRedirects: Bool = false
        ) {
            self.httpVersion = httpVersion
            self.connectTimeout = connectTimeout
            self.verifyTLS = verifyTLS
            self.caFile = caFile
            self.followRedirects = followRedirects
        }
    }

    public var url: String
    public var method: Method
    /// Header lines, `Name: value`.
    public var headers: [String]
    public var body: [UInt8]
    /// The whole transfer, connection included.
    public var timeout: Duration
    public var connection: Connection

    public init(
        url: String, method: Method = .post, headers: [String] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(10), connection: Connection = Connection()
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connection = connection
    }
}
