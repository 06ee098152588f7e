/// What a provider's status query says of one message it took: Tencent Cloud's `PullSmsSendStatus`, Alibaba Cloud's
/// `QuerySendDetails`. Neither provider honours an idempotency key, so these answers are how a message whose
/// submit's answer was lost (`unknown`) is settled.
public struct ProviderStatus: Sendable, Hashable {
    /// The number, as the provider writes it.
    public var number: String
    /// The provider's id of the message (Tencent's `SerialNo`); nil when its answer names none (Alibaba's).
    public var gatewayID: String?
    /// What Sparrow sent as the request's context (Tencent's `SessionContext`, Alibaba's `OutId`): the id of the
    /// request's first message, which names the campaign.
    public var context: String?
    /// `accepted` while the provider waits for the carrier's report; else `delivered` or `undelivered`.
    public var state: MessageState
    /// The report's code, for a message not delivered.
    public var error: String?

    public init(number: String, gatewayID: String?, context: String?, state: MessageState, error: String?) {
        self.number = number
        self.gatewayID = gatewayID
        self.context = context
        self.state = state
        self.error = error
    }

    /// The campaign the status belongs to, when its context is a message id Sparrow made.
    public var campaign: Substring? { context.flatMap(MessageID.campaign(of:)) }
}

/// A page of a status query's answer.
public struct StatusPage: Sendable, Hashable {
    public var statuses: [ProviderStatus]
    /// How many statuses the query matches in all, when the provider says (Alibaba pages its answer).
    public var total: Int?

    public init(statuses: [ProviderStatus], total: Int? = nil) {
        self.statuses = statuses
        self.total = total
    }
}

/// A status query the provider did not answer: the reason, with its code.
public struct StatusQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String

    public init(reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
