package import CoreMetrics
import SparrowCore

/// Holds one carrier's messages to its rate: owns the carrier's token bucket, read against the run's clock. A lane
/// asks once per group of messages, not once per message.
package actor CarrierThrottle {
    private let clock: RunClock
    private var bucket: TokenBucket
    private let waited: FloatingPointCounter?

    /// - Parameters:
    ///   - rate: units per second.
    ///   - burst: the units the bucket holds.
    ///   - waited: counts the seconds the throttle held messages back (`sparrow_throttle_wait_seconds_total`).
    package init(rate: Double, burst: Int, clock: RunClock, waited: FloatingPointCounter? = nil) {
        self.clock = clock
        bucket = TokenBucket(rate: rate, burst: max(burst, 1), now: clock.now)
        self.waited = waited
    }

    /// Waits until the first message of `units` (each message's cost in tokens) may go, takes the tokens of as many
    /// leading messages as may go now, and returns their count (at least 1 when `units` is not empty). To fill a
    /// batch, it then goes on admitting messages as their tokens come, up to `fill` of them, for at most `linger`.
    /// - Throws: `CancellationError` when the task is cancelled while it waits; the tokens already taken are spent.
    package func admit(_ units: [Int], fill: Int = 1, linger: Duration = .zero) async throws -> Int {
        var admitted = try await admitFirst(units)
        let goal = min(fill, units.count)
        guard linger > .zero, admitted < goal else { return admitted }
        let deadline = clock.now + linger
        while admitted < goal {
            guard let wait = bucket.take(units[admitted], now: clock.now) else {
                admitted += 1
                continue
            }
            guard clock.now + wait <= deadline else { break }
            try await sleep(for: wait)
        }
        return admitted
    }

    private func admitFirst(_ units: [Int]) async throws -> Int {
        while true {
            var admitted = 0
            for cost in units {
                guard let wait = bucket.take(cost, now: clock.now) else {
                    admitted += 1
                    continue
                }
                if admitted > 0 { return admitted }
                try await sleep(for: wait)  // others may take tokens meanwhile: ask again after
                break
            }
            if admitted == units.count { return admitted }
        }
    }

    private func sleep(for wait: Duration) async throws {
        let asleep = clock.now
        try await clock.sleep(for: wait)
        waited?.increment(by: (clock.now - asleep) / .seconds(1))
    }
}
