import Foundation
import SparrowCore
import Testing

@testable import SparrowConfig

/// Every minute of DST days, for several window shapes, against an obviously right oracle: step forward minute by
/// minute with Foundation's own calendar until the wall clock is outside the window.
@Suite struct QuietHoursSweepTests {
    static let windows: [(String, String)] = [
        ("21:00", "08:00"),  // wraps midnight
        ("09:00", "17:00"),  // within a day
        ("01:00", "02:30"),  // ends inside the spring-forward gap
        ("02:30", "06:00"),  // starts inside the gap
        ("22:00", "01:30"),  // ends inside the repeated hour of autumn
        ("00:00", "02:00"),
    ]
    static let days: [(zone: String, day: String)] = [
        ("America/New_York", "2026-03-08"), ("America/New_York", "2026-11-01"),
        ("Europe/London", "2026-03-29"), ("Europe/London", "2026-10-25"),
        ("Australia/Sydney", "2026-04-05"), ("Asia/Shanghai", "2026-11-22"),
    ]

    static func insideByOracle(_ instant: Int64, _ zone: TimeZone, _ quiet: QuietHours) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = calendar.dateComponents([.hour, .minute], from: Date(timeIntervalSince1970: TimeInterval(instant)))
        return quiet.contains(secondOfDay: Int64(parts.hour! * 3600 + parts.minute! * 60))
    }

    @Test(arguments: days)
    func everyMinuteOfTheDay(zone identifier: String, day: String) throws {
        let zone = try #require(TimeZone(identifier: identifier))
        let start = try #require(Timestamp(rfc3339: day + "T00:00:00Z")).secondsSince1970 - 14 * 3600
        let rules = try #require(SystemZones(around: Timestamp(secondsSince1970: start)).rules(for: identifier))
        for (from, to) in Self.windows {
            let quiet = QuietHours(start: WallTime(from)!, end: WallTime(to)!)
            var minute = start
            while minute < start + 38 * 3600 {
                let now = Timestamp(secondsSince1970: minute)
                var expected: Int64?
                if Self.insideByOracle(minute, zone, quiet) {
                    var probe = minute + 60
                    while Self.insideByOracle(probe, zone, quiet) { probe += 60 }
                    expected = probe
                }
                let actual = quiet.release(of: now, in: rules)?.secondsSince1970
                #expect(actual == expected, "\(identifier) \(from)-\(to) at \(now)")
                minute += 60
            }
        }
    }

    @Test func offsetsMatchFoundationAcrossTheHorizon() throws {
        let now = try #require(Timestamp(rfc3339: "2026-11-22T12:00:00Z"))
        for identifier in [
            "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago",
        ] {
            let zone = try #require(TimeZone(identifier: identifier))
            let rules = try #require(SystemZones(around: now).rules(for: identifier))
            var instant = now.secondsSince1970
            while instant < now.secondsSince1970 + 390 * 86_400 {
                let expected = Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant))))
                #expect(rules.offset(at: Timestamp(secondsSince1970: instant)) == expected, "\(identifier)")
                instant += 1800
            }
        }
    }

    @Test func unknownZonesHaveNoRules() {
        #expect(SystemZones(around: Timestamp(secondsSince1970: 0)).rules(for: "Mars/Olympus") == nil)
    }
}
