/// A time zone's UTC offsets as a table of transitions, so that the core can do exact wall-clock arithmetic
/// without reading tzdata itself. The caller builds the table (from `TimeZone`, over the horizon it needs).
///
/// Offset `offsets[0]` holds before `transitions[0]`; `offsets[i + 1]` from `transitions[i]` on.
public struct ZoneRules: Sendable, Hashable {
    public let identifier: String
    public let transitions: [Timestamp]
    public let offsets: [Int64]

    /// - Precondition: `transitions` ascend, and `offsets` has one more element than `transitions`.
    public init(identifier: String, transitions: [Timestamp], offsets: [Int64]) {
        precondition(offsets.count == transitions.count + 1, "one offset per interval between transitions")
        precondition(zip(transitions, transitions.dropFirst()).allSatisfy { $0 < $1 }, "transitions must ascend")
        self.identifier = identifier
        self.transitions = transitions
        self.offsets = offsets
    }

    /// A zone with one offset for all time.
    public static func fixed(_ identifier: String, offset: Int64) -> ZoneRules {
        ZoneRules(identifier: identifier, transitions: [], offsets: [offset])
    }

    /// Seconds east of UTC at `instant`.
    ///
    /// - Complexity: O(log n) in the transitions.
    public func offset(at instant: Timestamp) -> Int64 {
        offsets[interval(containing: instant)]
    }

    /// The wall-clock reading at `instant`, as seconds since 1970-01-01T00:00 local time.
    public func localSeconds(at instant: Timestamp) -> Int64 {
        instant.secondsSince1970 + offset(at: instant)
    }

    /// The first instant after `notBefore` whose wall clock reads `local`, or, when that reading does not exist
    /// (a DST gap), the first instant after the gap.
    ///
    /// - Parameter local: seconds since 1970-01-01T00:00 local time.
    public func firstInstant(atLocal local: Int64, after notBefore: Timestamp) -> Timestamp {
        let first = interval(containing: Timestamp(secondsSince1970: local - 86_400))
        let last = interval(containing: Timestamp(secondsSince1970: local + 86_400))
        for index in first...last {
            let candidate = Timestamp(secondsSince1970: local - offsets[index])
            if candidate > notBefore, contains(candidate, inInterval: index) {
                return candidate
            }
        }
        for index in first..<last {
            let transition = transitions[index]
            let wallBefore = transition.secondsSince1970 + offsets[index]
            let wallAfter = transition.secondsSince1970 + offsets[index + 1]
            if wallBefore <= local, local < wallAfter, transition > notBefore {
                return transition
            }
        }
        // The reading exists only at or before `notBefore` (e.g. the first pass of a repeated hour): a day later.
        return firstInstant(atLocal: local + 86_400, after: notBefore)
    }

    /// The transitions strictly between two instants.
    public func transitions(after start: Timestamp, before end: Timestamp) -> ArraySlice<Timestamp> {
        let first = interval(containing: start)
        var last = first
        while last < transitions.count, transitions[last] < end { last += 1 }
        return transitions[first..<last]
    }

    private func contains(_ instant: Timestamp, inInterval index: Int) -> Bool {
        (index == 0 || transitions[index - 1] <= instant)
            && (index == transitions.count || instant < transitions[index])
    }

    /// Index of the offset in force at `instant`: the number of transitions at or before it.
    private func interval(containing instant: Timestamp) -> Int {
        var low = 0
        var high = transitions.count
        while low < high {
            let middle = (low + high) / 2
            if transitions[middle] <= instant {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
