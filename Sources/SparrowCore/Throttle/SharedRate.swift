import DequeModule

/// One rate shared by several senders through a single stored value, by GCRA (the generic cell rate algorithm):
/// the value is the theoretical arrival time (TAT) of the next unit, and a sender takes units from it in leases,
/// each unit with the span of time in which it may be used. However many senders lease, and whenever they do, when
/// each unit is used within its span no stretch of time of length `d` holds more than `rate · d + burst` of them:
/// the bound of one token bucket of `burst` tokens, shared.
///
/// Times are whole microseconds on the clock of whoever keeps the value (the database's), so that senders on hosts
/// whose clocks disagree still share one schedule.
///
/// ```swift
/// let rate = SharedRate(rate: 100, burst: 10)     // a unit every 10 ms, 10 at once
/// let (lease, tat) = rate.lease(25, tat: 0, now: 1_000_000, horizon: 50_000)
/// // lease.count == 15: 10 usable at once, then one each 10 ms until 50 ms from now
/// rate.lease(3, minimum: 3, tat: tat, now: 1_000_000, horizon: 0).lease.count  // 3, from 60 ms on
/// ```
public struct SharedRate: Sendable, Hashable {
    /// Microseconds between two units at the sustained rate (GCRA's emission interval T).
    public let interval: Int64
    /// Units that may go at once.
    public let burst: Int

    /// - Parameters:
    ///   - rate: units a second; above 1,000,000 counts as 1,000,000 (one a microsecond).
    ///   - burst: at least 1.
    public init(rate: Double, burst: Int) {
        precondition(rate > 0 && burst >= 1, "a shared rate needs a rate above 0 and a burst of at least 1")
        // Rounded up: never faster than `rate`. At most a day, so that no sum of intervals overflows.
        interval = max(1, Int64(min((1_000_000 / rate).rounded(.up), 86_400_000_000)))
        self.burst = burst
    }

    /// Leases up to `wanted` units at `now`: those whose earliest times fall no later than `now + horizon`, and
    /// `minimum` of them however far ahead, so that a message of that many units gets them together.
    /// - Parameters:
    ///   - tat: the stored value; 0 for a rate nobody has used.
    ///   - now: the keeper's clock, read after the sender asked (the sender counts its units' spans from its ask:
    ///     `LeasedUnits.hold`) and before it answers.
    ///   - horizon: how far ahead of `now` a leased unit may be scheduled, in microseconds.
    /// - Returns: the lease (empty when the rate is spent beyond the horizon) and the value to store.
    public func lease(
        _ wanted: Int, minimum: Int = 0, tat: Int64, now: Int64, horizon: Int64
    ) -> (lease: RateLease, tat: Int64) {
        precondition(
            wanted >= minimum && minimum >= 0 && horizon >= 0, "a lease wants 0 ≤ minimum ≤ wanted, horizon ≥ 0")
        // Unit i is due at start + i·T and may go (burst − 1)·T before that: GCRA allowing a unit when
        // max(TAT, now) + T − now ≤ τ, with τ = T · burst.
        let start = max(tat, now)
        let tolerance = Int64(burst - 1) * interval
        let first = start - tolerance
        let inHorizon = now + horizon >= first ? (now + horizon - first) / interval + 1 : 0
        let count = max(minimum, Int(min(Int64(wanted), inHorizon)))
        let lease = RateLease(start: start, interval: interval, tolerance: tolerance, count: count, now: now)
        return (lease, start + Int64(count) * interval)
    }
}

/// Units of a shared rate, leased at once. Unit i is due at `start + i · interval`; it may be used from `tolerance`
/// before that (but not before `now`) until it is due (a sender allows itself one interval more: `LeasedUnits`), and
/// is lost after: a unit used late could crowd the units of other senders into one span. Times are microseconds on
/// the clock of the rate's keeper.
public struct RateLease: Sendable, Hashable {
    public let start: Int64
    public let interval: Int64
    public let tolerance: Int64
    public let count: Int
    /// The keeper's clock when it granted the lease.
    public let now: Int64

    public init(start: Int64, interval: Int64, tolerance: Int64, count: Int, now: Int64) {
        self.start = start
        self.interval = interval
        self.tolerance = tolerance
        self.count = count
        self.now = now
    }

    /// When unit `index` may be used first.
    public func earliest(_ index: Int) -> Int64 {
        max(now, due(index) - tolerance)
    }

    /// When unit `index` is due: it may not be used after.
    public func due(_ index: Int) -> Int64 {
        start + Int64(index) * interval
    }
}

/// The units of a shared rate that one sender holds, on its own clock: what it leased and has not used yet, oldest
/// first.
///
/// The keeper read its clock between the moment the sender asked and the moment the lease arrived, so a unit's span
/// is carried over to the sender's clock on the safe side at both ends: its start by the arrival (it may be used no
/// earlier than granted), its end by the ask. The end is allowed a grace: one interval, for a timer that wakes late
/// (a rate with a burst of 1 has units with no span at all), or the lease's round trip when that is longer: without
/// it, the trip would shorten every span by its length, and a message of `burst` units would never find its units'
/// spans open at once (it would lease again and again). So a unit is used no later than the grace after it was due,
/// and any stretch of time `d` holds at most `rate · d + burst + max(1, rate · round trip)` units, over all senders.
public struct LeasedUnits: Sendable {
    private let burst: Int
    private var units = Deque<(earliest: Duration, latest: Duration)>()
    /// Units dropped unused so far, their spans over.
    public private(set) var dropped = 0

    /// - Parameter burst: the shared rate's burst.
    public init(burst: Int) {
        self.burst = burst
    }

    /// What a sender may do with a message of some units.
    public enum Take: Sendable, Hashable {
        /// The units are taken: the message may go.
        case taken
        /// The message may go after this wait.
        case wait(Duration)
        /// Too few units are held: lease at least this many together (all of the message's, whatever else is held:
        /// `SharedRate.lease`'s `minimum`), then take again.
        case lease(Int)
    }

    /// Adds `lease`, asked for at `asked` and arrived at `arrived` on the sender's clock.
    public mutating func hold(_ lease: RateLease, askedAt asked: Duration, arrivedAt arrived: Duration) {
        // Starts counted from the arrival, ends from the ask: each on its safe side of the keeper's reading.
        let (late, early) = (arrived - .microseconds(lease.now), asked - .microseconds(lease.now))
        let grace = max(.microseconds(lease.interval), arrived - asked)
        for index in 0..<lease.count {
            units.append((.microseconds(lease.earliest(index)) + late, .microseconds(lease.due(index)) + early + grace))
        }
    }

    /// Takes `count` units at `now`. A message of more units than the burst goes once its first `burst` units may,
    /// taking the rest ahead of their time, as a local token bucket lets it run into debt: the messages after it wait
    /// for the units after those.
    public mutating func take(_ count: Int, now: Duration) -> Take {
        while let first = units.first, first.latest < now {
            units.removeFirst()
            dropped += 1
        }
        guard units.count >= count else { return .lease(count) }
        guard count > 0 else { return .taken }
        let ready = units[min(count, burst) - 1].earliest
        guard ready <= now else { return .wait(ready - now) }
        units.removeFirst(count)
        return .taken
    }
}
