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
    private var counters: SharedRateCounters?

    /// How long after a throttle admits a group of messages their requests go: longer than marking them as
    /// submitting takes (a few milliseconds, tens on a loaded database), so that they reach the gateway on the
    /// throttle's schedule rather than whenever the mark's commit ended; short, so that few messages wait marked
    /// ahead of their requests. Every worker sharing a rate holds its groups alike, so their units keep their spans,
    /// only later by the same time.
    package static let hold = Duration.milliseconds(50)

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
        counters = nil
    }

    /// A throttle that leases its units from a rate other workers share.
    /// - Parameter counters: its leases, and the units it leased and dropped unused.
    package init(
        sharing leaser: SharedRateLeaser, clock: RunClock, waited: FloatingPointCounter? = nil,
        counters: SharedRateCounters? = nil
    ) {
        self.clock = clock
        source = .shared(leaser, held: LeasedUnits(burst: leaser.rate.burst))
        self.waited = waited
        self.counters = counters
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
        case .shared(let leaser, _):
            return try await take(cost, ahead: ahead, leasingFrom: leaser)
        }
    }

    /// `take` for a shared rate: from the units held, and from a lease when they run out.
    private func take(_ cost: Int, ahead: Int, leasingFrom leaser: SharedRateLeaser) async throws -> Duration? {
        var taken = withHeld { $0.take(cost, now: clock.now) }
        if case .lease(let needed) = taken {
            let asked = clock.now
            let lease = try await leaser.lease(max(needed, ahead), needed)
            counters?.count(lease)
            taken = withHeld { held in
                held.hold(lease, askedAt: asked, arrivedAt: clock.now)
                return held.take(cost, now: clock.now)
            }
        }
        switch taken {
        case .taken: return nil
        case .wait(let wait): return wait
        // Not expected (a lease brings the message's units together, their spans open at once): ask again later.
        case .lease: return .microseconds(leaser.rate.interval)
        }
    }

    /// Runs `body` on the units held of a shared rate, and counts those it dropped.
    private func withHeld(_ body: (inout LeasedUnits) -> LeasedUnits.Take) -> LeasedUnits.Take {
        guard case .shared(let leaser, var held) = source else { preconditionFailure("a shared rate's throttle") }
        defer {
            source = .shared(leaser, held: held)
            counters?.count(droppedSoFar: held.dropped)
        }
        return body(&held)
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

/// What a throttle sharing a rate counts: `sparrow_shared_rate_leases_total{carrier}`,
/// `sparrow_shared_rate_units_leased_total{carrier}`, and `sparrow_shared_rate_units_dropped_total{carrier}` (of
/// those leased, the units unused when their span ended).
package struct SharedRateCounters: Sendable {
    private let leases: Counter
    private let leased: Counter
    private let dropped: Counter
    private var droppedCounted = 0

    package init(carrier: String, factory: any MetricsFactory) {
        func counter(_ label: String) -> Counter {
            Counter(label: label, dimensions: [("carrier", carrier)], factory: factory)
        }
        leases = counter("sparrow_shared_rate_leases_total")
        leased = counter("sparrow_shared_rate_units_leased_total")
        dropped = counter("sparrow_shared_rate_units_dropped_total")
    }

    mutating func count(_ lease: RateLease) {
        leases.increment()
        leased.increment(by: lease.count)
    }

    mutating func count(droppedSoFar: Int) {
        guard droppedSoFar > droppedCounted else { return }
        dropped.increment(by: droppedSoFar - droppedCounted)
        droppedCounted = droppedSoFar
    }
}
