/// How one gateway's messages are retried.
public struct RetryPolicy: Sendable, Hashable {
    /// The most attempts a message gets, counting the first.
    public var maxAttempts: Int
    /// The ceiling of the first backoff; each later one doubles it.
    public var baseDelay: Duration
    /// The highest ceiling a backoff reaches.
    public var maxDelay: Duration
    /// The longest a `Retry-After` header may pause the gateway; longer requests are cut to it.
    public var maxRetryAfter: Duration
    /// Whether the gateway recognises Sparrow's idempotency key and takes a resent message only once. Only then may a
    /// message be resent after an attempt that may have reached the gateway.
    public var honoursIdempotencyKey: Bool

    /// - Precondition: `maxAttempts >= 1`, `baseDelay > .zero`, `maxDelay >= baseDelay` and `maxRetryAfter >= .zero`.
    public init(
        maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(30),
        maxRetryAfter: Duration = .seconds(300), honoursIdempotencyKey: Bool = false
    ) {
        precondition(maxAttempts >= 1, "a message needs at least one attempt")
        precondition(baseDelay > .zero && maxDelay >= baseDelay, "backoff needs 0 < baseDelay <= maxDelay")
        precondition(maxRetryAfter >= .zero, "a negative maxRetryAfter")
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.honoursIdempotencyKey = honoursIdempotencyKey
    }

    /// The longest backoff after attempt `attempt` failed: `min(maxDelay, baseDelay · 2^(attempt − 1))`.
    /// - Precondition: `attempt >= 1`.
    /// - Complexity: O(min(attempt, log₂(maxDelay / baseDelay))).
    public func backoffCeiling(after attempt: Int) -> Duration {
        precondition(attempt >= 1, "attempts count from 1")
        var ceiling = baseDelay
        var doublings = attempt - 1
        while doublings > 0, ceiling < maxDelay {
            ceiling *= 2
            doublings -= 1
        }
        return min(ceiling, maxDelay)
    }

    /// A backoff with full jitter after attempt `attempt` failed: uniformly random in `0...backoffCeiling(after:)`,
    /// so that messages turned away together do not come back together.
    public func backoff(after attempt: Int, random: inout some RandomNumberGenerator) -> Duration {
        Duration(attoseconds: Int128.random(in: 0...backoffCeiling(after: attempt).attoseconds, using: &random))
    }
}
