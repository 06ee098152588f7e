/// What a provider's result code means to Sparrow, beside acceptance; a code a provider's table does not list is a
/// refusal, failed with the provider's code and message.
enum ProviderCode: Hashable {
    /// The provider failed for now (an internal timeout, its request limit): sent again.
    case retry
    /// The request's time is too far from the provider's: failed, with the reason said plainly, never retried.
    case clockSkew
    /// The provider takes the message after this long (a frequency limit, its marketing hours).
    case deferred(Duration)
    /// The number is on the provider's blacklist: failed, and suppressed.
    case blacklisted

    /// The reading of `code`: accepted with `gatewayID` when it is `accepted`, else as `codes` lists it.
    static func reading(
        code: String, message: String, status: Int, accepted: String, gatewayID: String?, codes: [String: Self]
    ) -> AnswerReading {
        guard code != accepted else { return .accepted(gatewayID: gatewayID) }
        let reason = message.isEmpty ? code : "\(code): \(message)"
        switch codes[code] {
        case .retry?: return .retry(reason: reason)
        case .clockSkew?:
            return .rejected(
                status: status, reason: "\(reason): this host's clock is off by minutes; set it right and resume")
        case .deferred(let delay)?: return .deferred(reason: reason, for: delay)
        case .blacklisted?: return .blacklisted(reason: reason)
        case nil: return .rejected(status: status, reason: reason)
        }
    }
}
