/// Who may not be messaged, whatever the campaign: unsubscribed numbers, and numbers that reached the frequency cap
/// across campaigns within its window.
public struct ContactPolicy: Sendable {
    public var suppressed: NumberSet
    /// Numbers that got the frequency cap's most messages within its window, from the store's ledger.
    public var capped: NumberSet

    public init(suppressed: NumberSet = NumberSet([]), capped: NumberSet = NumberSet([])) {
        self.suppressed = suppressed
        self.capped = capped
    }

    /// `.suppressed` or `.capped` when `number` may not be messaged; nil when it may.
    public func refusal(for number: PhoneNumber) -> PlanStatus? {
        if suppressed.contains(number) { return .suppressed }
        if capped.contains(number) { return .capped }
        return nil
    }
}
