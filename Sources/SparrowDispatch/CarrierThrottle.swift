package import CoreMetrics
package import SparrowCore

/// Holds one carrier's messages to its rate, read against the run's clock: the rate of this process alone (a token
/// bucket it owns), or a rate shared with other workers (units leased from its keeper, `SharedRate`). A lane asks
/// once per group of messages, not once per message; one lane at a time (the lease's wait lets another call in,
/// which would lease for itself meanwhile).
package actor CarrierThrottle {
    private let clock: RunClock
    private var source: Source
    private let waited: FloatingPointCounter?

    /// Where the throttle's units come from.
    private enum Source {
        case own(TokenBucket)
        case shared(SharedRateLeaser, held: LeasedUnits)
    }

    /// A throttle of its own.
    /// - Parameters:
    ///   - rate: units per second.
    ///   - burst: the units the bucket holds.
    ///   - waited: counts the seconds the throttle held messages back (`sparrow_throttle_wait_seconds_total`).
    package init(rate: Double, burst: Int, clock: RunClock, waited: FloatingPointCounter? = nil) {
        self.clock = clock
        source = .own(TokenBucket(rate: rate, burst: max(burst, 1), now: clock.now))
        self.waited = waited
    }

    /// A throttle that leases its units from a rate other workers share.
    package init(sharing leaser: SharedRateLeaser, clock: RunClock, waited: FloatingPointCounter? = nil) {
        self.clock = clock
        source = .shared(leaser, held: LeasedUnits(burst: leaser.rate.burst))
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
    /// units are leased as they run out, for the messages `ahead` (at most what its horizon holds), and at least the
    /// message's own together.
    private func take(_ cost: Int, ahead: Int) async throws -> Duration? {
        switch source {
        case .own(var bucket):
            defer { source = .own(bucket) }
            return bucket.take(cost, now: clock.now)
        case .shared(let leaser, var held):
            switch held.take(cost, now: clock.now) {
            case .taken:
                source = .shared(leaser, held: held)
                return nil
            case .wait(let wait):
                source = .shared(leaser, held: held)
                return wait
            case .lease(let needed):
                source = .shared(leaser, held: held)
                let asked = clock.now
                let lease = try await leaser.lease(max(needed, ahead), needed)
                let arrived = clock.now
                guard case .shared(_, var held) = source else { preconditionFailure("a throttle keeps its source") }
                held.hold(lease, askedAt: asked, arrivedAt: arrived)
                let taken = held.take(cost, now: arrived)
                source = .shared(leaser, held: held)
                switch taken {
                case .taken: return nil
                case .wait(let wait): return wait
                // Its units' spans ended before the lease arrived: the database was slower than a burst.
                case .lease: return .zero
                }
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
    /// Leases up to `wanted` units due within the keeper's horizon, and `minimum` of them however far ahead.
    package let lease: @Sendable (_ wanted: Int, _ minimum: Int) async throws -> RateLease

    package init(
        rate: SharedRate, lease: @escaping @Sendable (_ wanted: Int, _ minimum: Int) async throws -> RateLease
    ) {
        self.rate = rate
        self.lease = lease
    }
}
