import Testing

@testable import SparrowCore

@Suite struct SharedRateTests {
    @Test func leasesTheBurstAtOnceThenOneUnitAnInterval() {
        let rate = SharedRate(rate: 100, burst: 10)
        let (lease, tat) = rate.lease(25, tat: 0, now: 1_000_000, horizon: 50_000)
        #expect(lease.count == 15)
        #expect((0..<10).allSatisfy { lease.earliest($0) == 1_000_000 })
        #expect((10..<15).map(lease.earliest) == [1_010_000, 1_020_000, 1_030_000, 1_040_000, 1_050_000])
        #expect(lease.due(0) == 1_000_000 && lease.due(14) == 1_140_000)
        #expect(tat == 1_150_000)
    }

    @Test func aSpentRateLeasesNothingWithinTheHorizonAndKeepsItsValue() {
        let rate = SharedRate(rate: 10, burst: 2)
        let (first, tat) = rate.lease(2, tat: 0, now: 5_000_000, horizon: 0)
        #expect(first.count == 2)
        let (second, after) = rate.lease(5, tat: tat, now: 5_000_001, horizon: 50_000)
        #expect(second.count == 0)
        #expect(after == tat)
        // One interval on, one unit more.
        #expect(rate.lease(5, tat: tat, now: 5_100_000, horizon: 0).lease.count == 1)
    }

    @Test func anIdleRateGivesNoMoreThanItsBurst() {
        let rate = SharedRate(rate: 50, burst: 4)
        let (lease, _) = rate.lease(100, tat: 1_000_000, now: 60_000_000, horizon: 0)
        #expect(lease.count == 4)
    }

    /// Senders lease at random moments with stale clock readings (taken up to 2 ms before the value was theirs), and
    /// use each unit at a random moment within its span, or not at all: over any stretch of time, the units used
    /// never exceed burst + rate × stretch, and a sender that keeps asking is not starved of the rate.
    @Test(arguments: [(100.0, 10), (7.0, 1), (2_000.0, 50)])
    func neverExceedsTheRateHoweverManySendersLease(perSecond: Double, burst: Int) {
        let rate = SharedRate(rate: perSecond, burst: burst)
        var generator = SplitMix64(seed: UInt64(perSecond))
        func random(_ bound: Int64) -> Int64 { bound > 0 ? Int64(generator.next() % UInt64(bound)) : 0 }
        var tat: Int64 = 0
        var now: Int64 = 1_000_000
        var used: [Int64] = []
        let end: Int64 = 21_000_000
        while now < end {
            let reading = now - random(2_000)
            let wanted = Int(random(Int64(burst) * 3)) + 1
            let (lease, next) = rate.lease(wanted, tat: tat, now: reading, horizon: random(200_000))
            tat = next
            for index in 0..<lease.count where random(10) < 9 {
                let earliest = lease.earliest(index)
                used.append(earliest + random(lease.due(index) - earliest + 1))
            }
            now += random(rate.interval * Int64(burst) * 2)
        }
        used.sort()
        for stretch: Int64 in [100_000, 1_000_000, 5_000_000] {
            var start = 0
            var most = 0
            for (index, time) in used.enumerated() {
                while used[start] < time - stretch { start += 1 }
                most = max(most, index - start + 1)
            }
            let bound = Int(perSecond * Double(stretch) / 1e6) + burst
            #expect(most <= bound, "\(most) units within \(stretch) µs, bound \(bound)")
        }
        let sustained = Double(used.count) / (Double(end - 1_000_000) / 1e6)
        #expect(sustained >= perSecond * 0.6, "used \(sustained)/s of \(perSecond)/s")
    }
}

@Suite struct LeasedUnitsTests {
    @Test func carriesALeaseOverToTheSendersClock() {
        let rate = SharedRate(rate: 100, burst: 2)
        var units = LeasedUnits(burst: 2)
        let (lease, _) = rate.lease(3, tat: 0, now: 7_000_000, horizon: 20_000)
        units.hold(lease, askedAt: .seconds(2), arrivedAt: .seconds(2))
        #expect(units.take(2, now: .seconds(2)) == .taken)
        #expect(units.take(1, now: .seconds(2)) == .wait(.milliseconds(10)))
        #expect(units.take(1, now: .seconds(2) + .milliseconds(10)) == .taken)
        #expect(units.take(1, now: .seconds(2) + .milliseconds(10)) == .lease(1))
    }

    @Test func dropsAUnitAnIntervalPastItsDueTime() {
        let rate = SharedRate(rate: 100, burst: 1)
        var units = LeasedUnits(burst: 1)
        units.hold(rate.lease(1, tat: 0, now: 0, horizon: 0).lease, askedAt: .zero, arrivedAt: .zero)
        var late = units
        #expect(units.take(1, now: .milliseconds(10)) == .taken)
        #expect(late.take(1, now: .milliseconds(10) + .microseconds(1)) == .lease(1))
        #expect(late.dropped == 1 && units.dropped == 0)
    }

    @Test func aMessageOfMoreUnitsThanTheBurstRunsIntoDebt() {
        let rate = SharedRate(rate: 100, burst: 2)
        var units = LeasedUnits(burst: 2)
        units.hold(rate.lease(6, tat: 0, now: 0, horizon: 1_000_000).lease, askedAt: .zero, arrivedAt: .zero)
        #expect(units.take(5, now: .zero) == .taken)
        #expect(units.take(1, now: .zero) == .wait(.milliseconds(40)))
    }

    /// A unit's span starts when the lease arrived and ends as counted from the ask: the keeper read its clock in
    /// between, and either end taken from the other moment could let a unit go outside its span.
    @Test func aLeaseSlowToArriveShortensItsUnitsSpans() {
        let rate = SharedRate(rate: 100, burst: 3)  // each unit may go 20 ms before it is due, and 10 ms after
        let lease = rate.lease(1, tat: 0, now: 50_000_000, horizon: 0).lease
        var units = LeasedUnits(burst: 3)
        units.hold(lease, askedAt: .seconds(9), arrivedAt: .seconds(9) + .milliseconds(4))
        var early = units
        #expect(early.take(1, now: .seconds(9) + .milliseconds(3)) == .wait(.milliseconds(1)))
        var late = units
        #expect(late.take(1, now: .seconds(9) + .milliseconds(10) + .microseconds(1)) == .lease(1))
        #expect(units.take(1, now: .seconds(9) + .milliseconds(10)) == .taken)
    }

    /// A message of `burst` units whose lease takes longer than an interval to arrive still finds its units' spans
    /// open at once, thanks to the grace of the lease's round trip: it goes, and does not lease again and again.
    @Test func aMessageOfABurstGoesWhenItsLeaseIsSlowerThanAnInterval() {
        let rate = SharedRate(rate: 100, burst: 5)
        var units = LeasedUnits(burst: 5)
        let lease = rate.lease(5, minimum: 5, tat: 4_000_000, now: 3_000_000, horizon: 0).lease  // from 1 s ahead
        units.hold(lease, askedAt: .seconds(3), arrivedAt: .seconds(3) + .milliseconds(12))
        #expect(units.take(5, now: .seconds(3) + .milliseconds(12)) == .wait(.seconds(1)))
        #expect(units.take(5, now: .seconds(4) + .milliseconds(12)) == .taken)
    }

    /// A message of more units than a lease's horizon holds gets them together, however the rate is shared, and goes:
    /// at 10 a second with a burst of 1, a lane that leases 100 ms ahead still sends messages of 3 segments, each
    /// 300 ms after the one before.
    @Test func aMessageOfMoreUnitsThanAHorizonHoldsGetsThemTogether() {
        let rate = SharedRate(rate: 10, burst: 1)
        var units = LeasedUnits(burst: 1)
        var (tat, now, sent): (Int64, Duration, [Duration]) = (0, .seconds(1), [])
        var leases = 0
        while sent.count < 5, leases < 20 {
            switch units.take(3, now: now) {
            case .taken: sent.append(now)
            case .wait(let wait): now += wait
            case .lease(let needed):
                leases += 1
                let (lease, after) = rate.lease(
                    needed, minimum: needed, tat: tat, now: now.microseconds, horizon: 100_000)
                tat = after
                units.hold(lease, askedAt: now, arrivedAt: now)
            }
        }
        #expect(sent == (0..<5).map { .seconds(1) + .milliseconds(300 * $0) })
    }

    /// Three senders on hosts whose clocks disagree lease from one keeper through a network that delays asks and
    /// answers (up to 3 ms in all), with timers that wake late (never by a whole interval): the units their messages
    /// use never exceed rate × stretch + burst + the grace's units in any stretch (1, or the rate times 3 ms when that
    /// is more), and together they get most of the rate.
    @Test(arguments: [(100.0, 5), (10.0, 1), (1_000.0, 20)])
    func sendersKeepToTheRateTogether(perSecond: Double, burst: Int) {
        let rate = SharedRate(rate: perSecond, burst: burst)
        var generator = SplitMix64(seed: UInt64(perSecond) + 1)
        func random(_ bound: Int64) -> Int64 { bound > 0 ? Int64(generator.next() % UInt64(bound)) : 0 }
        var tat: Int64 = 0
        var senders = (0..<3).map { index in
            (units: LeasedUnits(burst: burst), wake: Duration.zero, offset: Duration.seconds(index * 1_000 - 1_000))
        }
        var used: [Duration] = []
        while let next = senders.indices.min(by: { senders[$0].wake < senders[$1].wake }),
            senders[next].wake < .seconds(20)
        {
            let now = senders[next].wake  // the keeper's clock
            let cost = Int(random(Int64(burst))) + 1
            switch senders[next].units.take(cost, now: now + senders[next].offset) {
            case .taken:
                used += repeatElement(now, count: cost)
                senders[next].wake = now + .microseconds(random(rate.interval))
            case .wait(let wait):
                senders[next].wake = now + wait + .microseconds(random(rate.interval / 2))
            case .lease(let needed):
                let (there, back) = (random(1_500), random(1_500))  // the ask's way to the keeper, the answer's back
                let (lease, after) = rate.lease(
                    max(needed, 8), minimum: needed, tat: tat, now: now.microseconds + there, horizon: 50_000)
                tat = after
                let arrived = now + .microseconds(there + back)
                senders[next].units.hold(
                    lease, askedAt: now + senders[next].offset, arrivedAt: arrived + senders[next].offset)
                senders[next].wake = arrived
            }
        }
        used.sort()
        for stretch in [Duration.milliseconds(100), .seconds(1), .seconds(5)] {
            var start = 0
            var most = 0
            for (index, time) in used.enumerated() {
                while used[start] <= time - stretch { start += 1 }
                most = max(most, index - start + 1)
            }
            let bound = Int(perSecond * (stretch / .seconds(1))) + burst + max(1, Int(perSecond * 0.003))
            #expect(most <= bound, "\(most) units within \(stretch), bound \(bound)")
        }
        #expect(Double(used.count) >= perSecond * 20 * 0.5, "\(used.count) units in 20 s at \(perSecond)/s")
    }
}

extension Duration {
    fileprivate var microseconds: Int64 { Int64(self / .microseconds(1)) }
}
