public import SparrowCore
import Synchronization

/// Quiet hours checked again just before a message goes: a message decided in the afternoon may reach its turn
/// in a throttled campaign, or in a `resume`, after the window has begun in the recipient's zone.
public final class QuietHoursCheck: Sendable {
    private let window: QuietHours
    private let zones: any ZoneRulesProvider
    private let rules = Lock<[String: ZoneRules?]>([:])

    public init(_ window: QuietHours, zones: any ZoneRulesProvider) {
        self.window = window
        self.zones = zones
    }

    /// When a message to a recipient in `zone` may go, if not at `now`; nil for now, or for an unknown zone (it
    /// was checked when the row was decided).
    public func release(at now: Timestamp, zone: String?) -> Timestamp? {
        guard let zone, let rules = rules(for: zone) else { return nil }
        return window.release(of: now, in: rules)
    }

    private func rules(for zone: String) -> ZoneRules? {
        if let cached = rules.withLock({ $0[zone] }) { return cached }
        let loaded = zones.rules(for: zone)
        rules.withLock { $0[zone] = loaded }
        return loaded
    }
}
