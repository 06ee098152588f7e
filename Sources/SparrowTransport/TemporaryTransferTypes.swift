// TEMPORARY: these types move to SparrowCore/Gateway with the retry state machines.
public enum TransferResult: Sendable, Hashable {
    case answered(HTTPAnswer)
    case failed(TransferFailure)
}
public struct HTTPAnswer: Sendable, Hashable {
    public var status: Int
    public var retryAfter: String?
    public var body: [UInt8]
    public init(status: Int, retryAfter: String?, body: [UInt8]) {
        self.status = status
        self.retryAfter = retryAfter
        self.body = body
    }
}
public struct TransferFailure: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case resolve, connect, tlsHandshake, tlsVerification, timeout, send, receive, emptyReply, protocolError,
            cancelled, other(Int32)
    }
    public var kind: Kind
    public var requestBytesSent: Int
    public var message: String
    public init(kind: Kind, requestBytesSent: Int, message: String) {
        self.kind = kind
        self.requestBytesSent = requestBytesSent
        self.message = message
    }
}
