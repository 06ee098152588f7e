/// A token bucket: `rate` tokens a second, holding at most `burst`. Time comes in as a reading of the caller's
/// clock, so the rule is exact and testable with any clock.
///
/// ```swift
/// var bucket = TokenBucket(rate: 100, burst: 10, now: .zero)
/// bucket.take(1, now: .zero)  // nil: taken
/// bucket.take(20, now: .zero) // wait this long, then ask again
/// ```
public struct TokenBucket: Sendable, Hashable {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var updated: Duration

    /// A full bucket at `now`.
    /// - Precondition: `rate > 0` and `burst >= 1`.
    public init(rate: Double, burst: Int, now: Duration) {
        precondition(rate > 0 && burst >= 1, "a bucket needs a positive rate and room for one token")
        self.rate = rate
        self.burst = Double(burst)
        tokens = Double(burst)
        updated = now
    }

    /// Takes `count` tokens if the bucket holds them; otherwise takes none and returns how long to wait until it
    /// will. A request larger than `burst` waits for a full bucket and then takes it all, running the bucket into
    /// debt, so a message of many segments still goes and the average rate still holds.
    ///
    /// - Complexity: O(1).
    public mutating func take(_ count: Int, now: Duration) -> Duration? {
        refill(now: now)
        let needed = min(Double(count), burst)
        if tokens >= needed {
            tokens -= Double(count)
            return nil
        }
        let seconds = (needed - tokens) / rate
        return .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
    }

    private mutating func refill(now: Duration) {
        guard now > updated else { return }
        let elapsed = (now - updated) / .seconds(1)
        tokens = min(burst, tokens + elapsed * rate)
        updated = now
    }
}
