/// A token bucket per client (the webhook's callers, by address), in a table of bounded size: one caller that
/// floods the webhook is slowed down without slowing the others.
///
/// ```swift
/// var limits = ClientRateLimits(rate: 100, burst: 200)
/// limits.admit("203.0.113.7", now: clock.now - start)  // nil: admitted; else how long to wait
/// ```
///
/// The table holds at most `capacity` clients. When it is full, clients idle long enough for their bucket to be
/// full again are forgotten (they lose nothing); if that frees too little, the quarter seen longest ago goes too.
public struct ClientRateLimits: Sendable {
    public let rate: Double
    public let burst: Int
    public let capacity: Int
    private var clients: [String: (bucket: TokenBucket, seen: Duration)] = [:]

    /// - Precondition: `rate > 0`, `burst >= 1` and `capacity >= 1`.
    public init(rate: Double, burst: Int, capacity: Int = 10_000) {
        precondition(capacity >= 1, "the table needs room for a client")
        _ = TokenBucket(rate: rate, burst: burst, now: .zero)  // checks rate and burst
        self.rate = rate
        self.burst = burst
        self.capacity = capacity
    }

    /// Clients with a bucket now.
    public var count: Int { clients.count }

    /// Takes a token from `client`'s bucket; nil when it had one, else how long until it will.
    /// - Complexity: amortized O(log `capacity`): a full table is swept once per `capacity / 4` new clients.
    public mutating func admit(_ client: String, now: Duration) -> Duration? {
        if clients[client] == nil, clients.count >= capacity { evict(now: now) }
        var entry = clients[client] ?? (TokenBucket(rate: rate, burst: burst, now: now), now)
        let wait = entry.bucket.take(1, now: now)
        entry.seen = now
        clients[client] = entry
        return wait
    }

    private mutating func evict(now: Duration) {
        let refill = Duration.seconds(Double(burst) / rate)
        clients = clients.filter { now - $0.value.seen < refill }
        guard clients.count > capacity * 3 / 4 else { return }
        let newest = clients.sorted { $0.value.seen > $1.value.seen }.prefix(capacity * 3 / 4)
        clients = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
    }
}
