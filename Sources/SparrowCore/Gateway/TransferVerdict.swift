/// What one attempt's `TransferResult` means for the message. SMS submits are not idempotent, so the verdict keeps
/// apart what certainly did not reach the gateway from what may have.
///
/// | observed | verdict |
/// |---|---|
/// | 2xx | `accepted` |
/// | 429, 503 | `throttled` |
/// | other 5xx | `ambiguous` |
/// | any other status (4xx, and 1xx or 3xx, which a gateway never means as acceptance) | `rejected` |
/// | TLS peer verification failed | `misconfigured`, however many bytes were sent |
/// | resolve, connect or TLS handshake failure, or any failure with no request bytes sent | `notSent` |
/// | any other failure after request bytes left | `ambiguous` |
public enum TransferVerdict: Sendable, Hashable {
    /// The gateway took the message.
    case accepted
    /// Nothing reached the gateway: sending again cannot duplicate the message.
    case notSent
    /// The gateway asked us to slow down (429 or 503), with the raw `Retry-After` value if it sent one.
    case throttled(retryAfter: String?)
    /// The gateway refused the message for good.
    case rejected
    /// The gateway cannot be trusted as configured (its TLS certificate did not verify): a configuration error.
    case misconfigured
    /// The request left this host and the gateway may or may not have taken it.
    case ambiguous

    /// Classifies what the transport observed.
    /// - Complexity: O(1).
    public init(_ result: TransferResult) {
        switch result {
        case .answered(let answer):
            switch answer.status {
            case 200..<300: self = .accepted
            case 429, 503: self = .throttled(retryAfter: answer.retryAfter)
            case 500..<600: self = .ambiguous
            default: self = .rejected
            }
        case .failed(let failure):
            switch failure.kind {
            case .tlsVerification: self = .misconfigured
            case .resolve, .connect, .tlsHandshake: self = .notSent
            default: self = failure.requestBytesSent == 0 ? .notSent : .ambiguous
            }
        }
    }
}
