/// Remembers which numbers a campaign has already planned, so a number is messaged once however often the
/// input lists it. Numbers are kept as their 64-bit E.164 values.
public struct DuplicateFilter: Sendable {
    private var seen: Set<UInt64> = []

    public init() {}

    /// Records `number`; true when it was seen before.
    public mutating func isDuplicate(_ number: PhoneNumber) -> Bool {
        !seen.insert(number.e164Value).inserted
    }

    public var count: Int { seen.count }
}
