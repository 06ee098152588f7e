import Foundation
import Testing

@testable import SparrowCore

@Suite struct TimestampTests {
    @Test func formatsEveryDayOfFourHundredYearsLikeFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        var day: Int64 = -365 * 30
        while day < 365 * 400 {
            let instant = Timestamp(secondsSince1970: day * 86_400 + 3_723)
            let expected = formatter.string(from: Date(timeIntervalSince1970: TimeInterval(instant.secondsSince1970)))
            #expect(instant.description == expected)
            #expect(Timestamp(rfc3339: expected) == instant)
            day += 37
        }
    }

    @Test(arguments: [
        ("2026-11-22T20:00:00Z", 1_795_377_600),
        ("2026-11-23T04:00:00+08:00", 1_795_377_600),
        ("2026-11-22 20:00:00.123Z", 1_795_377_600),
        ("2026-11-22T15:00-05:00", 1_795_377_600),
        ("2026-11-22", 1_795_305_600),
    ])
    func parses(_ text: String, seconds: Int64) {
        #expect(Timestamp(rfc3339: text)?.secondsSince1970 == seconds)
    }

    @Test(arguments: ["", "2026-02-30T00:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T20:00:00", "yesterday"])
    func rejects(_ text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }
}

@Suite struct TokenBucketTests {
    /// Drive a bucket with an injected clock and greedy takers: over any window the tokens taken never exceed
    /// burst + rate × window.
    @Test(arguments: [(100.0, 10), (3.0, 1), (1000.0, 50)])
    func neverExceedsTheRate(rate: Double, burst: Int) {
        var bucket = TokenBucket(rate: rate, burst: burst, now: .zero)
        var now = Duration.zero
        var takes: [(Duration, Int)] = []
        var generator = SplitMix64(seed: UInt64(rate))
        while now < .seconds(20) {
            let want = Int(generator.next() % 3) + 1
            if let wait = bucket.take(want, now: now) {
                now += wait
            } else {
                takes.append((now, want))
                now += .microseconds(Int64(generator.next() % 500))
            }
        }
        for window in [Duration.milliseconds(100), .seconds(1), .seconds(5)] {
            var start = 0
            var inWindow = 0
            for take in takes {
                inWindow += take.1
                while takes[start].0 < take.0 - window {
                    inWindow -= takes[start].1
                    start += 1
                }
                let limit = Double(burst) + 2 + rate * (window / .seconds(1))
                #expect(Double(inWindow) <= limit)
            }
        }
        let total = takes.reduce(0) { $0 + $1.1 }
        #expect(Double(total) >= rate * 19)  // and it does not starve
    }
}

@Suite struct ClientRateLimitsTests {
    @Test func eachClientHasItsOwnBucket() {
        var limits = ClientRateLimits(rate: 2, burst: 3)
        let first = (0..<4).map { _ in limits.admit("10.0.0.1", now: .zero) }
        #expect(first[0..<3].allSatisfy { $0 == nil })  // the burst
        #expect(first[3] == .milliseconds(500))  // then one token every half second
        #expect(limits.admit("10.0.0.2", now: .zero) == nil)  // another caller is not held up
        #expect(limits.admit("10.0.0.1", now: .milliseconds(500)) == nil)
        #expect(limits.admit("10.0.0.1", now: .milliseconds(500)) != nil)
    }

    @Test func aFullTableForgetsIdleClientsFirst() {
        var limits = ClientRateLimits(rate: 1, burst: 2, capacity: 4)
        for _ in 0..<3 { _ = limits.admit("busy", now: .seconds(10)) }  // in debt
        for index in 0..<3 { _ = limits.admit("idle-\(index)", now: .zero) }
        #expect(limits.count == 4)
        _ = limits.admit("new", now: .seconds(10))  // the idle ones' buckets are full again: forgotten
        #expect(limits.count == 2)
        #expect(limits.admit("busy", now: .seconds(10)) != nil)  // the busy one kept its debt
    }

    @Test func aTableOfActiveClientsDropsTheQuarterSeenLongestAgo() {
        var limits = ClientRateLimits(rate: 1, burst: 100, capacity: 8)
        for index in 0..<8 { _ = limits.admit("c\(index)", now: .milliseconds(Int64(index))) }
        _ = limits.admit("c8", now: .milliseconds(8))
        #expect(limits.count == 7)  // the 6 seen last, and the new one
    }
}
