/// Reads an HTTP `Retry-After` header (RFC 9110 §10.2.3) without Foundation.
///
/// ```swift
/// let now = Timestamp(rfc3339: "2037-10-21T07:27:00Z")!
/// RetryAfter.delay("120\r\n", now: now, cap: .seconds(300))                          // .seconds(120)
/// RetryAfter.delay("Wed, 21 Oct 2037 07:28:00 GMT", now: now, cap: .seconds(300))   // .seconds(60)
/// RetryAfter.delay("soon", now: now, cap: .seconds(300))                             // nil
/// ```
public enum RetryAfter {
    /// How long the header asks us to wait.
    ///
    /// The value is trimmed of spaces, tabs, CR and LF on its bytes (a Swift `Character` holds `"\r\n"` as one, so
    /// trimming characters would miss it), then read as delta-seconds or as an HTTP-date: IMF-fixdate
    /// (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`, its two-digit year read as the
    /// one at most 50 years after `now`'s and less than 50 before) or asctime (`Sun Nov  6 08:49:37 1994`).
    ///
    /// - Parameters:
    ///   - headerValue: The raw header value.
    ///   - now: The current wall time, to turn a date into a delay.
    ///   - cap: The longest delay to return; longer requests are cut to it.
    /// - Returns: The delay, between zero (a date in the past) and `cap`; nil when the value is neither form.
    /// - Complexity: O(*n*) in the value's length.
    public static func delay(_ headerValue: String, now: Timestamp, cap: Duration) -> Duration? {
        precondition(cap >= .zero, "a negative cap")
        let bytes = Array(headerValue.utf8)
        // SP, HT, CR, LF
        let isPadding = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        guard let first = bytes.firstIndex(where: { !isPadding($0) }),
            let last = bytes.lastIndex(where: { !isPadding($0) })
        else { return nil }
        let value = bytes[first...last]
        let seconds: Int64
        if let delta = number(value, digits: 1...Int.max) {
            seconds = delta
        } else if let date = date(value, now: now) {
            seconds = max(0, date.secondsSince1970 - now.secondsSince1970)
        } else {
            return nil
        }
        return min(.seconds(seconds), cap)
    }

    /// An HTTP-date in any of its three forms.
    private static func date(_ value: ArraySlice<UInt8>, now: Timestamp) -> Timestamp? {
        let fields = value.split(separator: UInt8(ascii: " "))
        switch fields.count {
        case 6:  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            guard isDay(fields[0], in: shortDays, comma: true), fields[5].elementsEqual("GMT".utf8) else { return nil }
            return timestamp(
                year: number(fields[3], digits: 4...4), month: fields[2], day: number(fields[1], digits: 2...2),
                time: fields[4])
        case 4:  // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let date = fields[1].split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
            guard isDay(fields[0], in: longDays, comma: true), fields[3].elementsEqual("GMT".utf8), date.count == 3,
                let twoDigits = number(date[2], digits: 2...2)
            else { return nil }
            let nowYear = Int64(CivilDate(daysSince1970: now.secondsSince1970.floorDivided(by: 86_400)).year)
            var year = nowYear - nowYear % 100 + twoDigits
            if year > nowYear + 50 {
                year -= 100
            } else if year <= nowYear - 50 {
                year += 100
            }
            return timestamp(year: year, month: date[1], day: number(date[0], digits: 2...2), time: fields[2])
        case 5:  // asctime: Sun Nov  6 08:49:37 1994
            guard isDay(fields[0], in: shortDays, comma: false) else { return nil }
            return timestamp(
                year: number(fields[4], digits: 4...4), month: fields[1], day: number(fields[2], digits: 1...2),
                time: fields[3])
        default:
            return nil
        }
    }

    /// Whether `field` is one of `names`, followed by a comma when `comma` is set. Names are case-sensitive.
    private static func isDay(_ field: ArraySlice<UInt8>, in names: [[UInt8]], comma: Bool) -> Bool {
        let name = comma ? field.dropLast() : field
        return (!comma || field.last == UInt8(ascii: ",")) && names.contains { $0.elementsEqual(name) }
    }

    /// The instant of a validated date and `HH:MM:SS` time in GMT (a leap second, `:60`, counts as the next second).
    private static func timestamp(year: Int64?, month name: ArraySlice<UInt8>, day: Int64?, time: ArraySlice<UInt8>)
        -> Timestamp?
    {
        let parts = time.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard let year, let day, let index = months.firstIndex(where: { $0.elementsEqual(name) }), parts.count == 3,
            let hour = number(parts[0], digits: 2...2), hour < 24,
            let minute = number(parts[1], digits: 2...2), minute < 60,
            let second = number(parts[2], digits: 2...2), second <= 60,
            (1...Int64(CivilDate.daysIn(month: index + 1, year: Int(year)))).contains(day)
        else { return nil }
        let days = CivilDate(year: Int(year), month: index + 1, day: Int(day)).daysSince1970
        return Timestamp(secondsSince1970: days * 86_400 + hour * 3_600 + minute * 60 + second)
    }

    /// A decimal number of `digits` digits and nothing else, saturating far beyond any delay worth waiting for.
    private static func number(_ field: ArraySlice<UInt8>, digits: ClosedRange<Int>) -> Int64? {
        guard digits.contains(field.count) else { return nil }
        var value: Int64 = 0
        for byte in field {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            value = min(value * 10 + Int64(byte - UInt8(ascii: "0")), 1_000_000_000_000)
        }
        return value
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .map { Array($0.utf8) }
    private static let shortDays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].map { Array($0.utf8) }
    private static let longDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        .map { Array($0.utf8) }
}
