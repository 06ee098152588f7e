import DequeModule
import Synchronization

/// A counting semaphore for tasks and callbacks: at most `limit` permits are held at once, later callers wait in
/// order. A caller may take several permits at once, all or none, so callers that each need several cannot
/// deadlock by holding parts. Waiting never blocks a thread.
public final class AsyncPermits: Sendable {
    private struct State {
        var available: Int
        var waiters = Deque<(count: Int, granted: @Sendable () -> Void)>()
    }

    public let limit: Int
    private let state: Mutex<State>

    public init(_ limit: Int) {
        precondition(limit >= 1, "a permit pool needs a permit")
        self.limit = limit
        state = Mutex(State(available: limit))
    }

    /// Takes `count` permits, waiting until all of them are free and every earlier caller has been served.
    /// - Precondition: `1 <= count <= limit`.
    public func acquire(_ count: Int = 1, isolation: isolated (any Actor)? = #isolation) async {
        await withCheckedContinuation(isolation: isolation) { continuation in
            acquire(count) { continuation.resume() }
        }
    }

    /// Takes `count` permits and runs `granted`: at once on this thread if they are free and nobody waits before,
    /// otherwise on the thread of the `release` that frees them.
    /// - Precondition: `1 <= count <= limit`.
    public func acquire(_ count: Int = 1, then granted: @escaping @Sendable () -> Void) {
        precondition((1...limit).contains(count), "asked for \(count) of \(limit) permits")
        let now = state.withLock { state in
            guard state.waiters.isEmpty, state.available >= count else {
                state.waiters.append((count, granted))
                return false
            }
            state.available -= count
            return true
        }
        if now { granted() }
    }

    /// Gives back `count` permits, passing them to waiters in order.
    public func release(_ count: Int = 1) {
        let woken = state.withLock { state in
            state.available += count
            var woken: [@Sendable () -> Void] = []
            while let first = state.waiters.first, first.count <= state.available {
                state.available -= first.count
                woken.append(state.waiters.removeFirst().granted)
            }
            return woken
        }
        for granted in woken { granted() }
    }
}
