/// Where a message stands. States only move forward (by `rank`): a late "accepted" never overwrites a receipt's
/// "delivered", and a duplicated receipt changes nothing.
public enum MessageState: String, Sendable, Hashable, CaseIterable {
    /// Journaled, to be submitted now.
    case ready
    /// Journaled, held until its `send_at` (quiet hours).
    case deferred
    /// Journaled as handed to the gateway: after a crash, it may or may not have arrived.
    case submitting
    /// The gateway took it.
    case accepted
    /// The gateway refused it, or it could not be sent.
    case failed
    /// It may have reached the gateway; receipts settle it.
    case unknown
    /// Receipts: final states.
    case delivered, undelivered, expired

    /// Progress: a state may only be replaced by one of a higher rank.
    public var rank: Int {
        switch self {
        case .ready, .deferred: 0
        case .submitting: 1
        case .accepted, .failed, .unknown: 2
        case .delivered, .undelivered, .expired: 3
        }
    }
}
