/// What the transport observed for one attempt to hand a message to a gateway.
///
/// The transport produces it; `TransferVerdict` says what it means, `SubmitStateMachine` decides what to do next and
/// `BreakerOutcome` says what it tells about the gateway's health.
public enum TransferResult: Sendable, Hashable {
    /// The gateway answered with an HTTP status, whatever the status.
    case answered(HTTPAnswer)
    /// No usable answer came back.
    case failed(TransferFailure)
}

/// A gateway's HTTP answer, as far as retrying needs it.
public struct HTTPAnswer: Sendable, Hashable {
    /// The final HTTP status code.
    public var status: Int
    /// The raw value of the `Retry-After` header, if the answer had one (possibly with its CRLF).
    public var retryAfter: String?
    /// The response body.
    public var body: [UInt8]
    /// The major HTTP version the answer came in: 1 for HTTP/1.x, 2 for a multiplexed HTTP/2 stream.
    public var httpVersion: Int

    public init(status: Int, retryAfter: String?, body: [UInt8], httpVersion: Int = 1) {
        self.status = status
        self.retryAfter = retryAfter
        self.body = body
        self.httpVersion = httpVersion
    }
}

/// A transfer that ended without a usable answer.
public struct TransferFailure: Sendable, Hashable {
    /// Where the transfer broke, as far as the transport can tell.
    public enum Kind: Sendable, Hashable {
        case resolve, connect, tlsHandshake, tlsVerification, timeout, send, receive, emptyReply, protocolError
        case cancelled
        /// A transport error without a kind of its own, by the transport's code (curl's `CURLcode`).
        case other(Int32)
    }

    public var kind: Kind
    /// Request bytes that left this host before the failure (libcurl's CURLINFO_REQUEST_SIZE); 0 means nothing was
    /// sent.
    public var requestBytesSent: Int
    /// The transport's own words for the failure, e.g. curl's error text.
    public var message: String

    public init(kind: Kind, requestBytesSent: Int, message: String) {
        self.kind = kind
        self.requestBytesSent = requestBytesSent
        self.message = message
    }
}

extension TransferResult {
    /// One line for reasons and logs: `HTTP 400: invalid number`, `timed out: Operation timed out after 10000 ms`.
    ///
    /// An answer's body is read as UTF-8, runs of white space and control characters become one space, and the text is
    /// trimmed and cut to `HTTPAnswer.reasonLimit` characters.
    public var summary: String {
        switch self {
        case .answered(let answer):
            let detail = answer.reason
            return detail.isEmpty ? "HTTP \(answer.status)" : "HTTP \(answer.status): \(detail)"
        case .failed(let failure):
            return failure.message.isEmpty ? failure.kind.summary : "\(failure.kind.summary): \(failure.message)"
        }
    }
}

extension HTTPAnswer {
    /// The most characters of a body that a reason keeps.
    public static let reasonLimit = 200

    /// The gateway's reason: the body as one trimmed line of at most `reasonLimit` characters.
    ///
    /// - Complexity: O(*n*) in the reason's length; the body is read only as far as the reason needs.
    var reason: String {
        var scalars = String.UnicodeScalarView()
        var kept = 0
        var spacePending = false
        var bytes = body.makeIterator()
        var decoder = UTF8()
        // Enough scalars for `reasonLimit` characters of ordinary text; long graphemes only cut the reason shorter.
        decoding: while kept < Self.reasonLimit * 4 {
            let scalar: Unicode.Scalar
            switch decoder.decode(&bytes) {
            case .scalarValue(let value): scalar = value
            case .error: scalar = "\u{FFFD}"
            case .emptyInput: break decoding
            }
            if scalar.properties.isWhitespace || scalar.properties.generalCategory == .control {
                spacePending = kept > 0
            } else {
                if spacePending { scalars.append(" ") }
                spacePending = false
                scalars.append(scalar)
                kept += 1
            }
        }
        let cut = String(scalars).prefix(Self.reasonLimit)
        return String(cut.last == " " ? cut.dropLast() : cut)
    }
}

extension TransferFailure.Kind {
    fileprivate var summary: String {
        switch self {
        case .resolve: "could not resolve host"
        case .connect: "could not connect"
        case .tlsHandshake: "TLS handshake failed"
        case .tlsVerification: "TLS peer verification failed"
        case .timeout: "timed out"
        case .send: "send error"
        case .receive: "receive error"
        case .emptyReply: "empty reply"
        case .protocolError: "protocol error"
        case .cancelled: "cancelled"
        case .other(let code): "transfer error \(code)"
        }
    }
}
