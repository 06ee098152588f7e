public import SparrowCore

/// One HTTP request to a gateway, as plain values that cross into the transport's thread.
public struct GatewayRequest: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        case get = "GET", post = "POST", put = "PUT"
    }

    public var url: String
    public var method: Method
    /// Header lines, `Name: value`.
    public var headers: [String]
    public var body: [UInt8]
    /// The whole transfer, connection included.
    public var timeout: Duration
    /// How to talk to the gateway: the same for all of its requests.
    public var connection: GatewayConnection

    public init(
        url: String, method: Method = .post, headers: [String] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(10), connection: GatewayConnection = GatewayConnection()
    ) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.connection = connection
    }
}
