/// Remembers which numbers `plan` has read, so that a number is planned once however often the input lists it.
/// Numbers are kept as their 64-bit E.164 values, so memory grows with the distinct numbers read; `send` finds
/// duplicates through its journal instead.
public struct DuplicateFilter: Sendable {
    private var seen: Set<UInt64> = []

    public init() {}

    /// Records `number`; true when it was seen before.
    public mutating func isDuplicate(_ number: PhoneNumber) -> Bool {
        !seen.insert(number.e164Value).inserted
    }

    public var count: Int { seen.count }
}
