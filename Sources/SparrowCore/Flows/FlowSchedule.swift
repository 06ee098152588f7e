/// When a flow's message may go: its due time moved past quiet hours (and, for marketing, past the hours outside
/// the marketing window), unless that reaches the order's deadline, in which case the rule's deadline action
/// decides.
///
/// ```swift
/// // An unpaid reminder due at 22:30, the order closing at 06:00: sent at 21:59 (send-before), or skipped.
/// schedule.time(for: rule, due: due, trigger: created, deadline: closes, zone: shanghai)
/// ```
public struct FlowSchedule: Sendable, Hashable {
    /// The configuration's quiet hours, for every message.
    public var quietHours: QuietHours?
    /// The hours outside the marketing window (22:00–08:00 for a window of 08:00–22:00), for marketing messages.
    public var outsideMarketingHours: QuietHours?

    /// A message moved before quiet hours goes this long before they begin.
    public static let leadBeforeQuiet: Int64 = 60

    public init(quietHours: QuietHours?, outsideMarketingHours: QuietHours?) {
        self.quietHours = quietHours
        self.outsideMarketingHours = outsideMarketingHours
    }

    /// When a message due at `due` goes, or why it does not.
    /// - Parameters:
    ///   - trigger: when the rule was triggered: a message is never moved before `trigger + earliest`.
    ///   - deadline: when the order stops being worth the message (`FlowRule.deadline(of:)`).
    public func time(
        for rule: FlowRule, due: Timestamp, trigger: Timestamp, deadline: Timestamp?, zone: ZoneRules
    ) -> Result<Timestamp, FlowSkip> {
        let windows = [quietHours, rule.purpose == .marketing ? outsideMarketingHours : nil].compactMap { $0 }
        if let deadline, due >= deadline { return .failure(.afterDeadline) }
        let release = Self.release(of: due, from: windows, zone: zone)
        guard let deadline, let rules = rule.deadline, release >= deadline else { return .success(release) }
        guard rules.action == .sendBefore else { return .failure(.quietUntilDeadline) }
        let before = Self.lastBefore(due, windows: windows, zone: zone)
        guard before >= trigger + rules.earliest else { return .failure(.quietUntilDeadline) }
        return .success(before)
    }

    /// The first instant at or after `instant` outside every window.
    static func release(of instant: Timestamp, from windows: [QuietHours], zone: ZoneRules) -> Timestamp {
        var time = instant
        for _ in 0..<8 {  // windows that chain end to end move it a few times; a whole day of them is refused at load
            guard let later = windows.lazy.compactMap({ $0.release(of: time, in: zone) }).first else { return time }
            time = later
        }
        return time
    }

    /// `leadBeforeQuiet` before the quiet stretch that holds `instant` begins; `instant` itself outside one.
    static func lastBefore(_ instant: Timestamp, windows: [QuietHours], zone: ZoneRules) -> Timestamp {
        var time = instant
        for _ in 0..<8 {
            guard let window = windows.first(where: { $0.release(of: time, in: zone) != nil }) else { return time }
            time = window.start(before: time, in: zone) + -Self.leadBeforeQuiet
        }
        return time
    }
}

/// Why a flow's message was not sent.
public enum FlowSkip: String, Error, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The rule is no longer in the configuration.
    case ruleRemoved = "rule-removed"
    /// The customer ordered again after the trigger.
    case laterOrder = "later-order"
    /// The order no longer meets the rule's conditions.
    case conditionsUnmet = "conditions-unmet"
    /// The order's events gave no phone number.
    case noNumber = "no-number"
    /// The number, or the message, cannot be sent (the plan's reason follows in the timer's note).
    case rejected
    case suppressed
    /// A marketing message within 24 hours of another to the same number, from a flow or a campaign.
    case frequencyCap = "frequency-cap"
    /// The message would be due after the order's deadline.
    case afterDeadline = "after-deadline"
    /// Quiet hours hold it past the order's deadline, and moving it before them is not allowed or too early.
    case quietUntilDeadline = "quiet-until-deadline"

    public var description: String { rawValue }
}

extension QuietHours {
    /// The instant the window holding `instant` began (its start, that local day or the day before); meaningful when
    /// `instant` lies inside the window.
    public func start(before instant: Timestamp, in zone: ZoneRules) -> Timestamp {
        let local = zone.localSeconds(at: instant)
        let day = local.floorDivided(by: 86_400)
        let second = local - day * 86_400
        let startDay = second >= start.secondOfDay ? day : day - 1
        let wall = startDay * 86_400 + start.secondOfDay
        // The instant of that wall time: offsets differ by hours at most, so it lies within a day before `instant`.
        return zone.firstInstant(
            atLocal: wall, after: Timestamp(secondsSince1970: wall - zone.offset(at: instant) - 86_400 / 2))
    }
}
