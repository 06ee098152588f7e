/// Chooses the gateway for a new message: its planned gateway while that gateway's breaker admits it, else the
/// first backup along the chain whose breaker does. Traffic returns to the planned gateway by itself: once its
/// cool-down ends it is asked first again, gets the probe, and a healthy probe closes its breaker.
///
/// The router places a message's first attempt only. Its retries stay on that gateway: the idempotency key means
/// nothing to another one, and the gateway's `RetryPolicy` governs them.
///
/// ```swift
/// var router = GatewayRouter(backups: ["primary": "fallback"])
/// switch router.route(from: "primary", now: clock.now) {
/// case .send(let gateway, let probe): … send, then router.record(BreakerOutcome(result), gateway: gateway,
///                                                                    probe: probe, now: clock.now)
/// case .hold(let until): … every gateway in the chain is open: wait until `until`, or for a probe to end
/// }
/// ```
public struct GatewayRouter: Sendable, Hashable {
    /// Where the next message goes.
    public enum Route: Sendable, Hashable {
        /// Send to `gateway`; `probe` says whether the transfer is that gateway's breaker probe.
        case send(to: String, probe: Bool)
        /// No gateway of the chain admits a message now. The first breaker admits a probe at `until`; nil when every
        /// gateway of the chain waits for a probe in flight.
        case hold(until: Duration?)
    }

    private let backups: [String: String]
    private let configuration: CircuitBreaker.Configuration
    private var breakers: [String: CircuitBreaker] = [:]

    /// - Parameters:
    ///   - backups: Each gateway's backup, by name. Chains are allowed; cycles are not.
    ///   - configuration: The breaker of every gateway.
    /// - Precondition: `backups` has no cycle (check configurations with `cycle(in:)`).
    public init(backups: [String: String], breaker configuration: CircuitBreaker.Configuration = .init()) {
        precondition(Self.cycle(in: backups) == nil, "gateway backups form a cycle")
        self.backups = backups
        self.configuration = configuration
    }

    /// The gateway for a new message planned for `primary`, at `now` on the caller's monotonic clock.
    /// - Complexity: O(*k*) for a chain of *k* gateways.
    public mutating func route(from primary: String, now: Duration) -> Route {
        var earliest: Duration?
        var gateway: String? = primary
        while let name = gateway {
            switch breakers[name, default: CircuitBreaker(configuration: configuration)].admit(now: now) {
            case .go:
                return .send(to: name, probe: false)
            case .probe:
                return .send(to: name, probe: true)
            case .reject(let until):
                if let until { earliest = min(earliest ?? until, until) }
            }
            gateway = backups[name]
        }
        return .hold(until: earliest)
    }

    /// Takes the outcome of a transfer to `gateway` (a routed first attempt or a retry), for its breaker.
    /// - Returns: The breaker's opening or closing, when the outcome made one.
    /// - Precondition: a probe's outcome arrives while that probe is in flight.
    /// - Complexity: O(1).
    @discardableResult
    public mutating func record(
        _ outcome: BreakerOutcome, gateway: String, probe: Bool, now: Duration
    ) -> CircuitBreaker.Transition? {
        breakers[gateway, default: CircuitBreaker(configuration: configuration)].record(outcome, probe: probe, now: now)
    }

    /// The state of `gateway`'s breaker, for reports and metrics.
    public func breakerState(of gateway: String) -> CircuitBreaker.State {
        breakers[gateway]?.state ?? .closed(consecutiveFailures: 0)
    }

    /// A cycle among `backups`, such as `["a", "b", "a"]`, or nil when there is none.
    /// - Complexity: O(*n*²) for *n* gateways.
    public static func cycle(in backups: [String: String]) -> [String]? {
        for start in backups.keys.sorted() {
            var path = [start]
            var seen: Set = [start]
            while let next = backups[path[path.count - 1]] {
                guard seen.insert(next).inserted else { return path.drop { $0 != next } + [next] }
                path.append(next)
            }
        }
        return nil
    }
}
