import SparrowCore
import Synchronization

/// Holds one carrier's messages to its rate: a token bucket read against `clock`, which tests replace with one
/// that only moves when slept on.
public final class CarrierThrottle<C: Clock>: Sendable where C.Duration == Duration {
    private let clock: C
    private let origin: C.Instant
    /// Nil for a carrier without a rate.
    private let bucket: Mutex<TokenBucket?>

    /// - Parameters:
    ///   - rate: units per second; nil lets everything through.
    ///   - burst: the units the bucket holds.
    public init(rate: Double?, burst: Int, clock: C) {
        self.clock = clock
        origin = clock.now
        bucket = Mutex(rate.map { TokenBucket(rate: $0, burst: max(burst, 1), now: .zero) })
    }

    /// Waits until the first message of `units` (each message's cost in tokens) may go, takes the tokens of as many
    /// leading messages as may go now, and returns their count (at least 1 when `units` is not empty).
    public func admit(_ units: some Collection<Int>) async -> Int {
        while true {
            let (admitted, wait) = bucket.withLock { bucket in Self.take(units, from: &bucket, now: origin.duration(to: clock.now)) }
            guard let wait else { return admitted }
            try? await clock.sleep(for: wait)
        }
    }

    /// Takes the tokens of the leading messages that may go now; with none, says how long to wait.
    private static func take(
        _ units: some Collection<Int>, from bucket: inout TokenBucket?, now: Duration
    ) -> (admitted: Int, wait: Duration?) {
        guard bucket != nil else { return (units.count, nil) }
        var admitted = 0
        for cost in units {
            if let wait = bucket!.take(cost, now: now) { return (admitted, admitted == 0 ? wait : nil) }
            admitted += 1
        }
        return (admitted, nil)
    }
}
