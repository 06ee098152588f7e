/// A time of day on the wall clock, to the minute.
public struct WallTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Minutes since midnight, 0..<1440.
    public let minuteOfDay: Int

    public init?(hour: Int, minute: Int) {
        guard (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        minuteOfDay = hour * 60 + minute
    }

    /// Parses `HH:MM` (24-hour clock).
    public init?(_ text: some StringProtocol) {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard fields.count == 2, fields.allSatisfy({ $0.count == 2 }),
            let hour = Int(fields[0]), let minute = Int(fields[1])
        else { return nil }
        self.init(hour: hour, minute: minute)
    }

    var secondOfDay: Int64 { Int64(minuteOfDay) * 60 }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.minuteOfDay < rhs.minuteOfDay }

    public var description: String {
        let hour = minuteOfDay / 60
        let minute = minuteOfDay % 60
        return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }
}

/// The hours of the recipient's day when no marketing SMS may arrive: `[start, end)` on the wall clock,
/// wrapping midnight when `start > end` (`21:00`–`08:00`). A message inside the window is deferred to its end.
///
/// ```swift
/// let quiet = QuietHours(start: WallTime("21:00")!, end: WallTime("08:00")!)
/// quiet.release(of: now, in: shanghai)  // nil when allowed now, else the first allowed instant
/// ```
public struct QuietHours: Hashable, Sendable {
    public var start: WallTime
    public var end: WallTime

    /// - Precondition: `start != end` (an empty or all-day window is a configuration error).
    public init(start: WallTime, end: WallTime) {
        precondition(start != end, "a quiet-hours window needs distinct start and end")
        self.start = start
        self.end = end
    }

    /// Whether a wall-clock second of the day lies inside the window: exactly `start` is inside, `end` is not.
    public func contains(secondOfDay second: Int64) -> Bool {
        if start < end {
            return second >= start.secondOfDay && second < end.secondOfDay
        }
        return second >= start.secondOfDay || second < end.secondOfDay
    }

    /// When a message may go: `nil` if `now` is outside the window in `zone`, else the first instant after it
    /// whose wall clock is outside the window: the window's end, DST-exact (when the end time does not exist that
    /// day, the first instant after the gap; when a clock change jumps out of the window earlier, that instant).
    ///
    /// - Complexity: O(log n) in the zone's transitions.
    public func release(of now: Timestamp, in zone: ZoneRules) -> Timestamp? {
        let local = zone.localSeconds(at: now)
        let day = local.floorDivided(by: 86_400)
        let second = local - day * 86_400
        guard contains(secondOfDay: second) else { return nil }
        let endDay = start > end && second >= start.secondOfDay ? day + 1 : day
        let windowEnd = zone.firstInstant(atLocal: endDay * 86_400 + end.secondOfDay, after: now)
        let escape = zone.transitions(after: now, before: windowEnd).first { transition in
            let wall = zone.localSeconds(at: transition)
            return !contains(secondOfDay: wall - wall.floorDivided(by: 86_400) * 86_400)
        }
        return escape ?? windowEnd
    }
}
