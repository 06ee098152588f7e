public import SparrowCore

/// A timer due, with its order as its events have told it.
public struct DueFlowTimer: Sendable, Hashable {
    public var timer: FlowTimer
    public var order: FlowOrder

    package init(timer: FlowTimer, order: FlowOrder) {
        self.timer = timer
        self.order = order
    }
}

/// How a due timer ended, or when it is due again.
public enum FlowTimerOutcome: Sendable, Hashable {
    /// Its message, journaled with it in one transaction.
    case sent(JournalEntry)
    case skipped(String)
    case cancelled(String)
    /// Due again later (quiet hours).
    case postponed(Timestamp)

    /// The timer's row after it: its state, the reason it was skipped or cancelled, its message's id when sent, and
    /// its new due time when postponed.
    package var settled: (state: FlowTimer.State, reason: String?, messageID: String?, dueAt: Int64?) {
        switch self {
        case .sent(let entry): (.sent, nil, entry.id, nil)
        case .skipped(let why): (.skipped, why, nil, nil)
        case .cancelled(let why): (.cancelled, why, nil, nil)
        case .postponed(let time): (.pending, nil, nil, time.secondsSince1970)
        }
    }
}

/// The store's part of lifecycle flows: order events deduplicated, orders as their events tell them, and the durable
/// timers of the rules' messages.
public protocol FlowStore: CampaignStore {
    /// Takes `events` in order, each in the way `FlowScheduler` rules: recorded once per source and id, folded into
    /// its order (made if it is the first event of an unknown order), cancelling the pending timers its kind cancels
    /// (for its order, and for the same number's earlier orders), and setting the timers it triggers. A timer set
    /// before (same rule, run and step) is left as it is. One transaction for all.
    /// - Parameter stopAtDue: stop before an event at or after the time a pending timer is due (those set by the
    ///   events taken included), so that the timer fires first; the first event is always taken.
    /// - Returns: how many of `events` were taken, and for each the order after it (nil for an event taken before).
    func ingest(_ events: ArraySlice<OrderEvent>, scheduler: FlowScheduler, stopAtDue: Bool) async throws
        -> [FlowOrder?]
    /// Up to `limit` pending timers due by `now`, the soonest first, with their orders.
    func dueFlowTimers(by now: Timestamp, limit: Int) async throws -> [DueFlowTimer]
    /// When something of the flows is next due: a pending timer, or a message of `campaigns` a gateway deferred.
    func nextFlowWake(campaigns: [String]) async throws -> Timestamp?
    /// Records how due timers ended, and journals the messages of those sent, in one transaction. A timer no longer
    /// pending (an event cancelled it meanwhile) is left as it is, and its message is not journaled.
    /// - Returns: the messages journaled.
    @discardableResult
    func settleFlowTimers(_ outcomes: [(timer: Int, outcome: FlowTimerOutcome)], at now: Timestamp) async throws
        -> [JournalEntry]
    /// The amounts of the orders `phone` placed in `from..<to`, closed ones left out.
    func flowDayTotal(phone: String, from: Timestamp, to: Timestamp) async throws -> Double
    /// Whether `phone` placed an order after `instant` other than `order`.
    func hasLaterOrder(phone: String, after instant: Timestamp, than order: FlowOrder) async throws -> Bool
    /// The times of the marketing messages each of `numbers` (E.164 values) had since `since`: a campaign's that a
    /// gateway took, or one of the `marketing` flow campaigns' journaled to go (and not failed). A flow's message
    /// counts from its journaled time, answered yet or not, so that the cap decides alike however fast answers come.
    /// Numbers with none are left out.
    func marketingSends(among numbers: [UInt64], since: Timestamp, marketing: [String]) async throws
        -> [UInt64: [Timestamp]]
    /// Records which flow campaigns are transactional (service messages): the frequency cap and the marketing
    /// history leave their messages out.
    func setTransactional(_ campaigns: [String]) async throws
    /// The latest time a flow recorded something (an event, a timer's outcome): where a replay resumes its clock.
    func lastFlowActivity() async throws -> Timestamp?
    /// Moves the `campaigns`' deferred messages due by `now` back to ready and returns them, in one transaction.
    func releaseDeferred(campaigns: [String], dueBy now: Timestamp, limit: Int) async throws -> [JournalEntry]
    /// The last local day (days since 1970) the birthday rule's daily pass ran for, or nil before its first.
    func lastFlowPass(rule: String) async throws -> Int64?
    /// Records that the birthday rule's daily pass ran for `day`.
    func recordFlowPass(rule: String, day: Int64) async throws
    /// Counts per rule and state, and the next pending timers.
    func flowStatus(next: Int) async throws -> FlowStatus
}
