/// A set of numbers held in memory as one sorted array of E.164 values: 8 bytes a number, looked up by binary
/// search. A campaign holds its unsubscribed and its capped numbers so.
public struct NumberSet: Sendable {
    private let numbers: [UInt64]

    /// - Parameter numbers: E.164 values; sorted here unless already ascending (as the store returns them).
    public init(_ numbers: [UInt64]) {
        self.numbers = zip(numbers, numbers.dropFirst()).allSatisfy { $0 <= $1 } ? numbers : numbers.sorted()
    }

    public var count: Int { numbers.count }

    /// - Complexity: O(log n).
    public func contains(_ number: PhoneNumber) -> Bool {
        let value = number.e164Value
        var low = 0
        var high = numbers.count
        while low < high {
            let middle = (low + high) / 2
            if numbers[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low < numbers.count && numbers[low] == value
    }
}
