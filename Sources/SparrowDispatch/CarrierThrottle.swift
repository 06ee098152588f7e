package import CoreMetrics
package import SparrowCore

/// Holds one carrier's messages to its rate, read against the run's clock: the rate of this process alone (a token
/// bucket it owns), or a rate shared with other workers (units leased from its keeper, `SharedRate`). A lane asks
/// once per group of messages, not once per message.
package actor CarrierThrottle {
    private let clock: RunClock
    private var bucket: TokenBucket?
    private let shared: SharedRateLeaser?
    private var held: LeasedUnits
    private let waited: FloatingPointCounter?

    /// A throttle of its own.
    /// - Parameters:
    ///   - rate: units per second.
    ///   - burst: the units the bucket holds.
    ///   - waited: counts the seconds the throttle held messages back (`sparrow_throttle_wait_seconds_total`).
    package init(rate: Double, burst: Int, clock: RunClock, waited: FloatingPointCounter? = nil) {
        self.clock = clock
        bucket = TokenBucket(rate: rate, burst: max(burst, 1), now: clock.now)
        shared = nil
        held = LeasedUnits(burst: 1)
        self.waited = waited
    }

    /// A throttle that leases its units from a rate other workers share.
    package init(sharing leaser: SharedRateLeaser, clock: RunClock, waited: FloatingPointCounter? = nil) {
        self.clock = clock
        bucket = nil
        shared = leaser
        held = LeasedUnits(burst: leaser.rate.burst)
        self.waited = waited
    }

    /// Waits until the first message of `units` (each message's cost in tokens) may go, takes the tokens of as many
    /// leading messages as may go now, and returns their count (at least 1 when `units` is not empty). To fill a
    /// batch, it then goes on admitting messages as their tokens come, up to `fill` of them, for at most `linger`.
    /// - Throws: `CancellationError` when the task is cancelled while it waits; the tokens already taken are spent.
    ///   A shared rate's keeper's errors (its lease is not granted: nothing goes).
    package func admit(_ units: [Int], fill: Int = 1, linger: Duration = .zero) async throws -> Int {
        var ahead = units.reduce(0, +)  // the units of the messages not admitted yet: what a lease asks for
        var admitted = try await admitFirst(units, ahead: &ahead)
        let goal = min(fill, units.count)
        guard linger > .zero, admitted < goal else { return admitted }
        let deadline = clock.now + linger
        while admitted < goal {
            guard let wait = try await take(units[admitted], ahead: ahead) else {
                ahead -= units[admitted]
                admitted += 1
                continue
            }
            guard clock.now + wait <= deadline else { break }
            try await sleep(for: wait)
        }
        return admitted
    }

    private func admitFirst(_ units: [Int], ahead: inout Int) async throws -> Int {
        while true {
            var admitted = 0
            for cost in units {
                guard let wait = try await take(cost, ahead: ahead) else {
                    ahead -= cost
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

    /// Takes `cost` tokens if they may go now; otherwise returns how long to wait before asking again. A shared rate's
    /// units are leased as they run out, for the messages `ahead` (at most what its horizon holds).
    private func take(_ cost: Int, ahead: Int) async throws -> Duration? {
        guard let shared else { return bucket!.take(cost, now: clock.now) }
        var leased = false
        while true {
            switch held.take(cost, now: clock.now) {
            case .taken:
                return nil
            case .wait(let wait):
                return wait
            case .lease where leased:  // spent beyond the horizon by other workers: ask again later, not at once
                return .microseconds(shared.rate.interval)
            case .lease(let wanted):
                held.hold(try await shared.lease(max(wanted, ahead)), arrivedAt: clock.now)
                leased = true
            }
        }
    }

    private func sleep(for wait: Duration) async throws {
        let asleep = clock.now
        try await clock.sleep(for: wait)
        waited?.increment(by: (clock.now - asleep) / .seconds(1))
    }
}

/// Leases units of one carrier's rate shared by several workers, from whoever keeps it (`SharedRates` in PostgreSQL).
package struct SharedRateLeaser: Sendable {
    package let rate: SharedRate
    /// Leases up to its argument's units due within the keeper's horizon.
    package let lease: @Sendable (_ wanted: Int) async throws -> RateLease

    package init(rate: SharedRate, lease: @escaping @Sendable (_ wanted: Int) async throws -> RateLease) {
        self.rate = rate
        self.lease = lease
    }
}
