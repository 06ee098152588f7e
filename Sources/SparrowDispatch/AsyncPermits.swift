import DequeModule
import Synchronization

/// A counting semaphore for tasks: at most `limit` permits are held at once, later callers wait in order. A caller
/// may take several permits at once, all or none, so callers that each need several cannot deadlock by holding
/// parts. Waiting never blocks a thread.
public final class AsyncPermits: Sendable {
    private struct State {
        var available: Int
        var waiters = Deque<(count: Int, continuation: CheckedContinuation<Void, Never>)>()
    }

    public let limit: Int
    private let state: Mutex<State>

    public init(_ limit: Int) {
        precondition(limit >= 1, "a permit pool needs a permit")
        self.limit = limit
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

    /// Takes `count` permits, waiting until all of them are free and every earlier caller has been served.
    /// - Precondition: `1 <= count <= limit`.
    public func acquire(_ count: Int = 1, isolation: isolated (any Actor)? = #isolation) async {
        precondition((1...limit).contains(count), "asked for \(count) of \(limit) permits")
        await withCheckedContinuation(isolation: isolation) { continuation in
            let granted = state.withLock { state in
                guard state.waiters.isEmpty, state.available >= count else {
                    state.waiters.append((count, continuation))
                    return false
                }
                state.available -= count
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Gives back `count` permits, passing them to waiters in order.
    public func release(_ count: Int = 1) {
        let woken = state.withLock { state in
            state.available += count
            var woken: [CheckedContinuation<Void, Never>] = []
            while let first = state.waiters.first, first.count <= state.available {
                state.available -= first.count
                woken.append(state.waiters.removeFirst().continuation)
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }
}
