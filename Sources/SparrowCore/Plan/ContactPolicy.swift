/// Who may not be messaged, whatever the campaign: unsubscribed numbers, and numbers that reached the frequency cap
/// across campaigns within its window.
public struct ContactPolicy: Sendable {
    public var suppressed: SuppressionList
    /// Sends per number (E.164 value) within the cap's window, from the store's ledger.
    public var recentSends: [UInt64: Int]
    /// The most messages a number may get within the window; nil for no cap.
    public var cap: Int?

    public init(suppressed: SuppressionList = SuppressionList([]), recentSends: [UInt64: Int] = [:], cap: Int? = nil) {
        self.suppressed = suppressed
        self.recentSends = recentSends
        self.cap = cap
    }

    /// `.suppressed` or `.capped` when `number` may not be messaged; nil when it may.
    public func refusal(for number: PhoneNumber) -> PlanStatus? {
        if suppressed.contains(number) { return .suppressed }
        if let cap, recentSends[number.e164Value, default: 0] >= cap { return .capped }
        return nil
    }
}
