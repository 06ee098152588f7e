/// Remembers which numbers `plan` has read, so that a number is planned once however often the input lists it.
/// Numbers are kept as their 64-bit E.164 values, so memory grows with the distinct numbers read (11–21 bytes a
/// number); `send` finds duplicates through its journal instead.
///
/// An open-addressing table with linear probing and Fibonacci hashing: this runs once per row on `plan`'s single
/// writer thread, where `Set`'s SipHash and growth took a fifth of the writer's time.
public struct DuplicateFilter: Sendable {
    /// A power of two in size, at most three quarters full; 0 marks an empty slot (no E.164 value is 0).
    private var slots = [UInt64](repeating: 0, count: 1 << 10)
    /// 64 less the table's size in bits: the hash keeps the product's top bits.
    private var shift = 64 - 10
    public private(set) var count = 0

    public init() {}

    /// Records `number`; true when it was seen before.
    public mutating func isDuplicate(_ number: PhoneNumber) -> Bool {
        let value = number.e164Value
        precondition(value != 0, "an E.164 value is never 0")
        if (count + 1) * 4 > slots.count * 3 { grow() }
        let inserted = Self.insert(value, into: &slots, shift: shift)
        if inserted { count += 1 }
        return !inserted
    }

    /// Inserts `value` unless present; true when it was inserted.
    private static func insert(_ value: UInt64, into slots: inout [UInt64], shift: Int) -> Bool {
        slots.withUnsafeMutableBufferPointer { slots in
            let mask = slots.count - 1
            var index = Int(truncatingIfNeeded: (value &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
            while slots[index] != 0 {
                if slots[index] == value { return false }
                index = (index + 1) & mask
            }
            slots[index] = value
            return true
        }
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        shift -= 1
        for value in old where value != 0 {
            _ = Self.insert(value, into: &slots, shift: shift)
        }
    }
}
