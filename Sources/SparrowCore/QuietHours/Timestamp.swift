/// An instant, in whole seconds since 1970-01-01T00:00:00Z.
///
/// The core never reads a clock: callers pass the current `Timestamp` in as `now:`.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var secondsSince1970: Int64

    public init(secondsSince1970: Int64) {
        self.secondsSince1970 = secondsSince1970
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.secondsSince1970 < rhs.secondsSince1970 }

    public static func + (lhs: Self, seconds: Int64) -> Self { Self(secondsSince1970: lhs.secondsSince1970 + seconds) }

    /// RFC 3339 in UTC, e.g. `2026-11-23T00:00:00Z`.
    public var description: String { String(decoding: rfc3339Bytes, as: UTF8.self) }

    /// The RFC 3339 UTC form as ASCII bytes, built without Foundation (20 bytes).
    public var rfc3339Bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        appendRFC3339(to: &bytes)
        return bytes
    }

    /// Appends the RFC 3339 UTC form to `buffer`.
    private func appendRFC3339(to buffer: inout [UInt8]) {
        let days = secondsSince1970.floorDivided(by: 86_400)
        let secondOfDay = Int(secondsSince1970 - days * 86_400)
        let date = CivilDate(daysSince1970: days)
        func append(_ value: Int, digits: Int) {
            var divisor = 1
            for _ in 1..<digits { divisor *= 10 }
            var value = value
            while divisor > 0 {
                buffer.append(UInt8(ascii: "0") &+ UInt8(value / divisor))
                value %= divisor
                divisor /= 10
            }
        }
        append(date.year, digits: 4)
        buffer.append(UInt8(ascii: "-"))
        append(date.month, digits: 2)
        buffer.append(UInt8(ascii: "-"))
        append(date.day, digits: 2)
        buffer.append(UInt8(ascii: "T"))
        append(secondOfDay / 3600, digits: 2)
        buffer.append(UInt8(ascii: ":"))
        append(secondOfDay / 60 % 60, digits: 2)
        buffer.append(UInt8(ascii: ":"))
        append(secondOfDay % 60, digits: 2)
        buffer.append(UInt8(ascii: "Z"))
    }

    /// Parses RFC 3339 / ISO 8601 date-times: `2026-11-22T20:00:00Z`, `2026-11-23T04:00:00+08:00`,
    /// fractional seconds (dropped), a space instead of `T`, or a bare date (midnight UTC).
    public init?(rfc3339 text: some StringProtocol) {
        var text = String(text)
        guard let parsed = text.withUTF8({ Self.parse($0, localOffset: nil) }) else { return nil }
        self = parsed
    }

    /// Parses a date-time as `init(rfc3339:)` does; with `localOffset`, also the forms order exports write: without
    /// an offset (local time `localOffset` seconds east of UTC, and a bare date at local midnight), and with the
    /// offset after a space (`2024-01-05 10:22:33 -0500`).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, localOffset: Int?) -> Timestamp? {
        var scanner = DigitScanner(bytes)
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2),
            (1...12).contains(month), (1...CivilDate.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        var seconds = CivilDate(year: year, month: month, day: day).daysSince1970 * 86_400
        if scanner.isAtEnd { return Timestamp(secondsSince1970: seconds - Int64(localOffset ?? 0)) }
        guard scanner.skip("T") || scanner.skip("t") || scanner.skip(" "),
            let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), hour < 24, minute < 60
        else { return nil }
        var second = 0
        if scanner.skip(":") {
            guard let value = scanner.number(digits: 2), value < 61 else { return nil }
            second = value
            if scanner.skip(".") || scanner.skip(",") {
                guard scanner.skipDigits() else { return nil }
            }
        }
        seconds += Int64(hour * 3600 + minute * 60 + second)
        if let localOffset {
            if scanner.isAtEnd { return Timestamp(secondsSince1970: seconds - Int64(localOffset)) }
            _ = scanner.skip(" ")
        }
        if scanner.skip("Z") || scanner.skip("z") {
        } else if let sign = scanner.sign() {
            guard let offsetHours = scanner.number(digits: 2) else { return nil }
            _ = scanner.skip(":")
            guard let offsetMinutes = scanner.number(digits: 2), offsetHours < 24, offsetMinutes < 60 else {
                return nil
            }
            seconds -= Int64(sign * (offsetHours * 3600 + offsetMinutes * 60))
        } else {
            return nil
        }
        guard scanner.isAtEnd else { return nil }
        return Timestamp(secondsSince1970: seconds)
    }
}

/// A proleptic Gregorian calendar date (Howard Hinnant's `days_from_civil` and `civil_from_days`).
struct CivilDate: Hashable {
    var year: Int
    var month: Int
    var day: Int

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    init(daysSince1970 days: Int64) {
        let shifted = days + 719_468
        let era = shifted.floorDivided(by: 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = Int(dayOfYear - (153 * monthIndex + 2) / 5 + 1)
        month = Int(monthIndex < 10 ? monthIndex + 3 : monthIndex - 9)
        year = Int(yearOfEra + era * 400) + (month <= 2 ? 1 : 0)
    }

    var daysSince1970: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = y.floorDivided(by: 400)
        let yearOfEra = y - era * 400
        let m = Int64(month)
        let dayOfYear = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Int64 {
    /// Division rounding toward negative infinity.
    @inlinable
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

/// Reads fixed-width decimal fields from ASCII bytes.
struct DigitScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { position == bytes.count }

    mutating func number(digits: Int) -> Int? {
        guard position + digits <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[position..<position + digits] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        position += digits
        return value
    }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
        position += 1
        return true
    }

    mutating func skipDigits() -> Bool {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) {
            position += 1
        }
        return position > start
    }

    mutating func sign() -> Int? {
        if skip("+") { return 1 }
        if skip("-") { return -1 }
        return nil
    }
}
