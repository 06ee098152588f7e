/// The monotonic clock a run reads and sleeps on, as the time elapsed since the clock was made: `.continuous` in
/// production, a test's own clock in tests, which then drives every wait of the run and every latency it records.
///
/// It erases the clock's type so that the dispatch types need no generic parameter; reading it costs an indirect
/// call.
public struct RunClock: Sendable {
    private let elapsed: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        elapsed = { origin.duration(to: clock.now) }
        sleeper = { try await clock.sleep(until: origin.advanced(by: $0), tolerance: nil) }
    }

    /// The system's monotonic clock.
    public static var continuous: RunClock { RunClock(ContinuousClock()) }

    /// The time elapsed since the clock was made.
    public var now: Duration { elapsed() }

    /// Sleeps until `deadline`, a time on this clock.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(until deadline: Duration) async throws {
        try await sleeper(deadline)
    }

    /// Sleeps for `duration`.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(for duration: Duration) async throws {
        try await sleeper(now + duration)
    }
}
