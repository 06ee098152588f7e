/// What one transfer tells about a gateway's health.
///
/// - `healthy`: a 2xx, or any answer that is not 429 or 5xx. A 4xx shows the gateway up and judging messages; a bad
///   number must not trip the breaker.
/// - `unhealthy`: any 5xx, 503 included (the service says it is unavailable: after a run of them, fail over), and every
///   transport failure but cancellation: resolve, connect, TLS handshake or verification, timeout, send, receive, empty
///   reply, protocol and other errors, whether or not request bytes were sent.
/// - `inconclusive`: a 429 (the gateway is up and pacing us; the pause or backoff answers it, failover would not) and a
///   cancelled transfer (the owner stopped it; the gateway did nothing wrong).
public enum BreakerOutcome: Sendable, Hashable {
    case healthy
    case unhealthy
    case inconclusive

    /// What `result` tells about the gateway that produced it.
    /// - Complexity: O(1).
    public init(_ result: TransferResult) {
        switch result {
        case .answered(let answer):
            switch answer.status {
            case 429: self = .inconclusive
            case 500..<600: self = .unhealthy
            default: self = .healthy
            }
        case .failed(let failure):
            self = failure.kind == .cancelled ? .inconclusive : .unhealthy
        }
    }
}

/// Stops sending to a gateway that keeps failing, and lets one probe through now and then to see if it is back.
///
/// Closed, it admits everything and counts consecutive `unhealthy` outcomes (`healthy` resets the count,
/// `inconclusive` leaves it); at `failureThreshold` it opens. Open, it rejects everything until the cool-down ends;
/// then the next `admit(now:)` makes it half-open and returns `.probe`. Half-open, it admits that one probe and rejects
/// the rest until the probe's outcome comes back: `healthy` closes it, `unhealthy` opens it again for twice the last
/// cool-down (at most `maxCoolDown`), `inconclusive` lets the next caller probe instead.
///
/// Outcomes of transfers admitted with `.go` that end after the breaker opened are stale and ignored.
///
/// ```swift
/// var breaker = CircuitBreaker()
/// switch breaker.admit(now: clock.now) {
/// case .go, .probe: … send, then breaker.record(BreakerOutcome(result), probe: wasProbe, now: clock.now)
/// case .reject(let until): … go elsewhere, or wait until `until` (nil: until the probe in flight ends)
/// }
/// ```
public struct CircuitBreaker: Sendable, Hashable {
    /// When a breaker opens and for how long.
    public struct Configuration: Sendable, Hashable {
        /// Consecutive `unhealthy` outcomes that open a closed breaker.
        public var failureThreshold: Int
        /// How long the breaker first stays open.
        public var coolDown: Duration
        /// The longest cool-down after failed probes have doubled it.
        public var maxCoolDown: Duration

        /// - Precondition: `failureThreshold >= 1` and `.zero < coolDown <= maxCoolDown`.
        public init(
            failureThreshold: Int = 5, coolDown: Duration = .seconds(30), maxCoolDown: Duration = .seconds(300)
        ) {
            precondition(failureThreshold >= 1, "a breaker needs a threshold of at least one failure")
            precondition(coolDown > .zero && maxCoolDown >= coolDown, "a breaker needs 0 < coolDown <= maxCoolDown")
            self.failureThreshold = failureThreshold
            self.coolDown = coolDown
            self.maxCoolDown = maxCoolDown
        }
    }

    public enum State: Sendable, Hashable {
        /// Admitting everything.
        case closed(consecutiveFailures: Int)
        /// Rejecting everything until the caller's clock reads `until`.
        case open(until: Duration)
        /// Waiting for one probe; `probeInFlight` is false after an inconclusive probe, until the next one is admitted.
        case halfOpen(probeInFlight: Bool)
    }

    /// Whether a transfer may go to the gateway.
    public enum Admission: Sendable, Hashable {
        /// Send; report the outcome with `probe: false`.
        case go
        /// Send this one as the probe; report the outcome with `probe: true`.
        case probe
        /// Do not send. The breaker admits a probe from `until` on; nil while a probe is in flight.
        case reject(until: Duration?)
    }

    public let configuration: Configuration
    public private(set) var state = State.closed(consecutiveFailures: 0)
    /// How long the breaker stayed open last time; a failed probe doubles it.
    private var coolDown: Duration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        coolDown = configuration.coolDown
    }

    /// Asks to send one transfer at `now`, a reading of the caller's monotonic clock.
    /// - Complexity: O(1).
    public mutating func admit(now: Duration) -> Admission {
        switch state {
        case .closed:
            return .go
        case .open(let until) where now < until:
            return .reject(until: until)
        case .open, .halfOpen(probeInFlight: false):
            state = .halfOpen(probeInFlight: true)
            return .probe
        case .halfOpen(probeInFlight: true):
            return .reject(until: nil)
        }
    }

    /// A change an outcome made to whether the breaker admits traffic, for logs and metrics.
    public enum Transition: Sendable, Hashable {
        /// It opened (again, after a failed probe): rejecting everything for `coolDown`.
        case opened(coolDown: Duration)
        /// A healthy probe closed it.
        case closed
    }

    /// Takes the outcome of an admitted transfer.
    ///
    /// - Parameters:
    ///   - outcome: What the transfer told about the gateway.
    ///   - probe: Whether the transfer was admitted as `.probe`.
    ///   - now: A reading of the caller's monotonic clock.
    /// - Returns: The breaker's opening or closing, when the outcome made one.
    /// - Precondition: a probe's outcome arrives while that probe is in flight.
    /// - Complexity: O(1).
    @discardableResult
    public mutating func record(_ outcome: BreakerOutcome, probe: Bool, now: Duration) -> Transition? {
        if probe {
            guard case .halfOpen(probeInFlight: true) = state else {
                preconditionFailure("a probe's outcome with no probe in flight")
            }
            switch outcome {
            case .healthy:
                state = .closed(consecutiveFailures: 0)
                return .closed
            case .unhealthy:
                return open(for: min(coolDown * 2, configuration.maxCoolDown), now: now)
            case .inconclusive:
                state = .halfOpen(probeInFlight: false)
                return nil
            }
        }
        guard case .closed(let failures) = state else { return nil }  // stale: admitted before the breaker opened
        switch outcome {
        case .healthy:
            state = .closed(consecutiveFailures: 0)
        case .unhealthy where failures + 1 >= configuration.failureThreshold:
            return open(for: configuration.coolDown, now: now)
        case .unhealthy:
            state = .closed(consecutiveFailures: failures + 1)
        case .inconclusive:
            break
        }
        return nil
    }

    private mutating func open(for coolDown: Duration, now: Duration) -> Transition {
        self.coolDown = coolDown
        state = .open(until: now + coolDown)
        return .opened(coolDown: coolDown)
    }
}
