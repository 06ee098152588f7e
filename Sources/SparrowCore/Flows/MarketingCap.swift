/// The limits on a customer's marketing messages from flows: none within 24 hours of another, from a flow or a
/// campaign (what Klaviyo calls Smart Sending), and at most `max` within the configuration's frequency-cap `window`.
///
/// ```swift
/// let cap = MarketingCap(max: 2, window: 7 * 86_400)
/// cap.allows(at: now, after: [now + -3 * 86_400])  // true: one in the week, none in the day
/// ```
public struct MarketingCap: Sendable, Hashable {
    /// The configuration's frequency cap: at most `max` messages within `window` seconds; nil for none.
    public var max: Int?
    public var window: Int64

    public static let day: Int64 = 86_400

    public init(max: Int? = nil, window: Int64 = 0) {
        self.max = max
        self.window = window
    }

    /// How far back the sends that decide must reach.
    public var lookBack: Int64 { Swift.max(Self.day, max == nil ? 0 : window) }

    /// Whether a marketing message may go at `now`, given the number's earlier marketing messages.
    public func allows(at now: Timestamp, after sends: [Timestamp]) -> Bool {
        func within(_ seconds: Int64) -> Int { sends.count { $0 > now + -seconds && $0 <= now } }
        return within(Self.day) == 0 && max.map { within(window) < $0 } ?? true
    }
}
