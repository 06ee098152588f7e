import SparrowCore
import Synchronization

/// A clock for tests that moves only when told to (`advance(by:)`) and counts the sleeps begun on it. A sleep ends
/// when the clock reaches its deadline or, as on a real clock, with `CancellationError` when its task is cancelled.
///
/// A wait that loops instead of honouring cancellation sleeps again and again; past `sleepLimit` sleeps the clock
/// parks every further sleep for good and `errorAfterCancelling(_:)` throws `WaitLooped`, so such a test fails
/// instead of spinning.
public final class TestClock: Clock, Sendable {
    public struct Instant: InstantProtocol {
        public var offset: Duration

        public init(offset: Duration) { self.offset = offset }
        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        var sleeps = 0
        /// Tasks waiting for a condition on the sleeps, by id.
        var watchers: [UInt64: (until: @Sendable (State) -> Bool, continuation: CheckedContinuation<Void, any Error>)] =
            [:]
        var parked: [CheckedContinuation<Void, any Error>] = []

        mutating func makeID() -> UInt64 {
            defer { nextID += 1 }
            return nextID
        }

        /// Takes out the watchers whose condition now holds.
        mutating func takeWatchers() -> [CheckedContinuation<Void, any Error>] {
            let state = self
            let met = watchers.filter { $0.value.until(state) }
            for id in met.keys { watchers[id] = nil }
            return met.values.map(\.continuation)
        }
    }

    public let sleepLimit: Int
    private let state = Lock(State())

    public init(sleepLimit: Int = 1000) {
        self.sleepLimit = sleepLimit
    }

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .nanoseconds(1) }

    /// The sleeps begun so far.
    public var sleeps: Int { state.withLock { $0.sleeps } }

    public func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLock { $0.makeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (result, woken) = state.withLock {
                    state -> (Result<Void, any Error>?, [CheckedContinuation<Void, any Error>]) in
                    state.sleeps += 1
                    if state.sleeps > sleepLimit {
                        state.parked.append(continuation)  // a looping wait: held here for good
                        return (nil, state.takeWatchers())
                    }
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if deadline <= state.now { return (.success(()), []) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return (nil, state.takeWatchers())
                }
                for watcher in woken { watcher.resume() }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves the clock on by `duration`, ending the sleeps whose deadlines it reaches.
    public func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers[id] = nil }
            return due.values.map(\.continuation)
        }
        for sleeper in due { sleeper.resume() }
    }

    /// Returns once `count` sleeps are waiting for the clock to move (or the sleep limit was passed).
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleepers(_ count: Int) async throws {
        try await watch { $0.sleepers.count >= count || $0.sleeps > self.sleepLimit }
    }

    /// Returns once a sleep is waiting for the clock to reach `deadline` or later (or the sleep limit was passed).
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleeper(until deadline: Duration) async throws {
        try await watch { state in
            state.sleepers.values.contains { $0.deadline.offset >= deadline } || state.sleeps > self.sleepLimit
        }
    }

    /// How a task that was told to stop ended: with its result, or still looping through sleeps.
    private enum Outcome<Success: Sendable>: Sendable {
        case ended(Result<Success, any Error>)
        case looped
    }

    /// Waits for `task` to end, or for the sleep limit to be passed, whichever comes first. A looping task is left
    /// parked in its sleep.
    private func outcome<Success: Sendable>(of task: Task<Success, any Error>) async -> Outcome<Success> {
        let (outcomes, sink) = AsyncStream.makeStream(of: Outcome<Success>.self)
        let ending = Task { sink.yield(.ended(await task.result)) }
        let looping = Task {
            try await watch { $0.sleeps > self.sleepLimit }
            sink.yield(.looped)
        }
        defer {
            ending.cancel()
            looping.cancel()
        }
        for await outcome in outcomes { return outcome }
        return .looped  // not reached: the stream is never finished
    }

    /// A wait that went on through its sleeps after its task was cancelled.
    public struct WaitLooped: Error {}

    /// Waits until `task` sleeps on this clock, cancels it, and returns the error it ended with.
    /// - Throws: `WaitLooped` when the task went on sleeping instead of ending; `CancellationError` when the
    ///   caller is cancelled; and an error naming the value when the task ended without throwing.
    public func errorAfterCancelling<Success: Sendable>(_ task: Task<Success, any Error>) async throws -> any Error {
        try await sleepers(1)
        task.cancel()
        switch await outcome(of: task) {
        case .looped: throw WaitLooped()
        case .ended(.failure(let error)): return error
        case .ended(.success(let value)): throw FinishedInstead(value: "\(value)")
        }
    }

    /// A task that was to end by cancellation returned `value` instead.
    public struct FinishedInstead: Error {
        public var value: String
    }

    private func watch(until condition: @escaping @Sendable (State) -> Bool) async throws {
        let id = state.withLock { $0.makeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let met = state.withLock { state -> Result<Void, any Error>? in
                    if condition(state) { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.watchers[id] = (condition, continuation)
                    return nil
                }
                if let met { continuation.resume(with: met) }
            }
        } onCancel: {
            let watcher = state.withLock { $0.watchers.removeValue(forKey: id) }
            watcher?.continuation.resume(throwing: CancellationError())
        }
    }
}
