import SparrowCore
import SparrowDispatch
import SparrowTestSupport
import Synchronization
import Testing

/// A clock that moves only when slept on, to the end of the sleep: a throttle's whole schedule runs at once, and
/// the times it admitted messages are exact.
final class FastForwardClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let current = Lock(Instant(offset: .zero))

    var now: Instant { current.withLock { $0 } }
    var minimumResolution: Duration { .nanoseconds(1) }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        current.withLock { $0 = max($0, deadline) }
    }
}

@Suite struct CarrierThrottleTests {
    /// Every interval of the schedule, not just the whole run: what went in `[a, b]` never exceeds what the
    /// bucket allows, `burst + rate × (b − a)`.
    @Test(arguments: [(rate: 50.0, burst: 10), (rate: 3.0, burst: 1), (rate: 1000.0, burst: 200)])
    func theRateIsNeverExceeded(rate: Double, burst: Int) async throws {
        let clock = FastForwardClock()
        let throttle = CarrierThrottle(rate: rate, burst: burst, clock: RunClock(clock))
        var random = SplitMix64(seed: 42)
        var units = (0..<1500).map { _ in 1 + Int(random.next() % UInt64(min(burst, 3))) }  // messages of 1–3 segments
        var sent: [(at: Duration, units: Int)] = []
        while !units.isEmpty {
            let admitted = try await throttle.admit(Array(units.prefix(64)))
            #expect(admitted >= 1)
            let at = clock.now.offset
            sent += units.prefix(admitted).map { (at, $0) }
            units.removeFirst(admitted)
        }
        var worst = 0.0
        for start in sent.indices {
            var total = 0
            for end in start..<sent.count {
                total += sent[end].units
                let allowed = Double(burst) + rate * ((sent[end].at - sent[start].at) / .seconds(1))
                worst = max(worst, Double(total) - allowed)
            }
        }
        #expect(worst <= 1e-6, "exceeded the bucket by \(worst) units")
        // And it is not slower than the rate either: the last message goes as soon as the rate allows.
        let total = Double(sent.reduce(0) { $0 + $1.units })
        let expected = (total - Double(burst)) / rate
        #expect(abs(sent.last!.at / .seconds(1) - expected) < 3 / rate)
    }

    /// A lane stopped while it waits for tokens ends with `CancellationError` after one sleep, instead of waking
    /// at once from every later sleep and asking again.
    @Test func aCancelledWaitEndsInsteadOfLooping() async throws {
        let clock = TestClock()
        let throttle = CarrierThrottle(rate: 1, burst: 1, clock: RunClock(clock))
        #expect(try await throttle.admit([1, 1]) == 1)  // the only token
        let error = try await clock.errorAfterCancelling(Task { try await throttle.admit([1]) })
        #expect(error is CancellationError)
        #expect(clock.sleeps == 1)
    }

    /// To fill a batch, a throttle goes on admitting messages as their tokens come, for at most its linger, and never
    /// faster than its rate.
    @Test func aBatchFillsWithinItsLinger() async throws {
        let clock = FastForwardClock()
        let throttle = CarrierThrottle(rate: 100, burst: 5, clock: RunClock(clock))
        let units = Array(repeating: 1, count: 200)
        #expect(try await throttle.admit(units, fill: 50, linger: .milliseconds(40)) == 5 + 4)  // 4 tokens in 40 ms
        #expect(clock.now.offset == .milliseconds(40))
        // A full batch's tokens arrive before the linger ends: it goes as soon as they have.
        #expect(try await throttle.admit(units, fill: 3, linger: .seconds(1)) == 3)
        #expect(clock.now.offset == .milliseconds(70))
        // Without a linger, only the tokens there are now.
        #expect(try await throttle.admit(units, fill: 50) == 1)
        #expect(clock.now.offset == .milliseconds(80))
    }
}
