/// A gateway as the sender sees it: how to build its requests and read its answers, how many may be in flight, how
/// long each may take, how hard to retry, how to connect, and where to fail over.
public struct GatewayEndpoint: Sendable {
    public var name: String
    public var dialect: GatewayDialect
    /// The gateway new messages go to while this one's circuit is open.
    public var backup: String?
    /// Its requests in flight at most.
    public var maxInFlight: Int
    /// The whole of one request, connection included.
    public var timeout: Duration
    public var retry: RetryPolicy
    public var connection: GatewayConnection

    public init(
        name: String, dialect: GatewayDialect, backup: String? = nil, maxInFlight: Int = 16,
        timeout: Duration = .seconds(10), retry: RetryPolicy = RetryPolicy(),
        connection: GatewayConnection = GatewayConnection()
    ) {
        self.name = name
        self.dialect = dialect
        self.backup = backup
        self.maxInFlight = maxInFlight
        self.timeout = timeout
        self.retry = retry
        self.connection = connection
    }
}

/// How to talk to one gateway: everything that is the same for all of its requests.
public struct GatewayConnection: Sendable, Hashable {
    public enum HTTPVersion: String, Sendable, Hashable, CaseIterable {
        /// HTTP/1.1 with keep-alive: the default, and the cheapest per message with curl 7.88.
        case http1_1 = "1.1"
        /// HTTP/2 over TLS, multiplexed: for a gateway that limits connections.
        case http2 = "2"
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
