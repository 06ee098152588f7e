public import SparrowCore

/// A message as the journal records it before it is submitted.
public struct JournalEntry: Sendable, Hashable {
    /// Deterministic (campaign, row, number): also the gateway idempotency key.
    public var id: String
    public var campaign: String
    public var line: Int
    public var to: String
    public var carrier: String?
    public var gateway: String
    public var segments: Int
    public var cost: Double
    public var sendAt: Timestamp
    public var state: MessageState

    public init(
        id: String, campaign: String, line: Int, to: String, carrier: String?, gateway: String, segments: Int,
        cost: Double, sendAt: Timestamp, state: MessageState
    ) {
        self.id = id
        self.campaign = campaign
        self.line = line
        self.to = to
        self.carrier = carrier
        self.gateway = gateway
        self.segments = segments
        self.cost = cost
        self.sendAt = sendAt
        self.state = state
    }
}

/// What the gateway made of a submit.
public struct SubmitRecord: Sendable, Hashable {
    public var id: String
    public var state: MessageState
    public var gateway: String
    public var gatewayMessageID: String?
    public var attempts: Int
    public var latency: Duration
    public var error: String?
    public var at: Timestamp

    public init(
        id: String, state: MessageState, gateway: String, gatewayMessageID: String?, attempts: Int, latency: Duration,
        error: String?, at: Timestamp
    ) {
        self.id = id
        self.state = state
        self.gateway = gateway
        self.gatewayMessageID = gatewayMessageID
        self.attempts = attempts
        self.latency = latency
        self.error = error
        self.at = at
    }
}

/// A delivery receipt, matched to its message by the gateway's message id.
public struct ReceiptRecord: Sendable, Hashable {
    public var gateway: String
    public var gatewayMessageID: String
    public var state: MessageState
    public var at: Timestamp

    public init(gateway: String, gatewayMessageID: String, state: MessageState, at: Timestamp) {
        self.gateway = gateway
        self.gatewayMessageID = gatewayMessageID
        self.state = state
        self.at = at
    }
}

/// What Sparrow keeps about campaigns, messages, receipts, unsubscribes and sends. Narrow on purpose, and in
/// batches, so that a store for several workers (PostgreSQL) can implement it too.
public protocol CampaignStore: Sendable {
    /// Records a campaign; a campaign that exists already is left as it is (resume).
    func beginCampaign(id: String, template: String, at: Timestamp) async throws
    /// Journals messages before they are submitted; ids already journaled are left as they are.
    func journal(_ entries: [JournalEntry]) async throws
    /// Moves messages forward (never backward) after the gateway answered, in one transaction.
    func record(_ submits: [SubmitRecord]) async throws
    /// Marks messages as handed to the gateway.
    func markSubmitting(_ ids: [String]) async throws
    /// Messages of `campaign` not yet answered: ready, deferred, or submitting when the process stopped.
    func unfinished(campaign: String) async throws -> [JournalEntry]
    /// Applies receipts; returns how many moved a message forward.
    func apply(_ receipts: [ReceiptRecord]) async throws -> Int
    /// Messages of `campaign` by state.
    func funnel(campaign: String) async throws -> [MessageState: Int]

    func suppress(_ numbers: [PhoneNumber]) async throws
    func unsuppress(_ numbers: [PhoneNumber]) async throws
    /// Every suppressed number as its E.164 value, ascending: compact to hold in memory during a campaign.
    func suppressedNumbers() async throws -> [UInt64]

    /// Counts, per number, the sends at or after `since` (the frequency cap's window).
    func sendCounts(since: Timestamp) async throws -> [UInt64: Int]
}
