import DequeModule
import Synchronization

/// A counting semaphore for tasks: at most `limit` bodies run at once, later callers wait in order. Waiting never
/// blocks a thread.
public final class AsyncPermits: Sendable {
    private struct State {
        var available: Int
        var waiters = Deque<CheckedContinuation<Void, Never>>()
    }

    private let state: Mutex<State>

    public init(_ limit: Int) {
        precondition(limit >= 1, "a permit pool needs a permit")
        state = Mutex(State(available: limit))
    }

    /// Runs `body` holding a permit.
    public func withPermit<Result: Sendable>(
        isolation: isolated (any Actor)? = #isolation, _ body: () async -> Result
    ) async -> Result {
        await acquire()
        defer { release() }
        return await body()
    }

    private func acquire(isolation: isolated (any Actor)? = #isolation) async {
        await withCheckedContinuation(isolation: isolation) { continuation in
            let granted = state.withLock { state in
                guard state.available > 0 else {
                    state.waiters.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state in
            guard let waiter = state.waiters.popFirst() else {
                state.available += 1
                return nil as CheckedContinuation<Void, Never>?
            }
            return waiter  // the permit passes straight to the next waiter
        }
        next?.resume()
    }
}
