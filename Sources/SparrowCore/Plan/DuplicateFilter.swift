/// Remembers which numbers a campaign has already planned, so a number is messaged once however often the
/// input lists it. Numbers are kept as 64-bit integers (E.164 has at most 15 digits).
public struct DuplicateFilter: Sendable {
    private var seen: Set<UInt64> = []

    public init() {}

    /// Records `number`; true when it was seen before.
    public mutating func isDuplicate(_ number: PhoneNumber) -> Bool {
        !seen.insert(number.e164Value).inserted
    }

    public var count: Int { seen.count }
}

extension PhoneNumber {
    /// The E.164 digits as one integer: a compact key for sets and sorted lists.
    public var e164Value: UInt64 {
        var value: UInt64 = 0
        for byte in e164.utf8.dropFirst() {
            value = value &* 10 &+ UInt64(byte &- UInt8(ascii: "0"))
        }
        return value
    }
}
