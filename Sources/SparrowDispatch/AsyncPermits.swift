import DequeModule
import Synchronization

/// A counting semaphore for tasks and callbacks: at most `limit` permits are held at once, later callers wait in
/// order. A caller may take several permits at once, all or none, so callers that each need several cannot
/// deadlock by holding parts. Waiting never blocks a thread.
public final class AsyncPermits: Sendable {
    private struct Waiter {
        var atLeast: Int
        var upTo: Int
        var granted: @Sendable (Int) -> Void
    }

    private struct State {
        var available: Int
        var waiters = Deque<Waiter>()
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
        _ = await acquire(atLeast: count, upTo: count, isolation: isolation)
    }

    /// Takes as many permits as are free, from `atLeast` to `upTo`, waiting until `atLeast` are free and every
    /// earlier caller has been served; returns how many it took. A caller that has many requests to start asks for
    /// a few at least, so that it is woken once per few completions rather than once per completion.
    /// - Precondition: `1 <= atLeast <= upTo` and `atLeast <= limit`.
    public func acquire(atLeast: Int, upTo: Int, isolation: isolated (any Actor)? = #isolation) async -> Int {
        await withCheckedContinuation(isolation: isolation) { continuation in
            acquire(atLeast: atLeast, upTo: upTo) { continuation.resume(returning: $0) }
        }
    }

    /// Takes `count` permits and runs `granted`: at once on this thread if they are free and nobody waits before,
    /// otherwise on the thread of the `release` that frees them.
    /// - Precondition: `1 <= count <= limit`.
    public func acquire(_ count: Int = 1, then granted: @escaping @Sendable () -> Void) {
        acquire(atLeast: count, upTo: count) { _ in granted() }
    }

    /// Takes from `atLeast` to `upTo` permits, as many as are free, and runs `granted` with the number taken: at once
    /// on this thread if `atLeast` are free and nobody waits before, otherwise on the thread of the `release` that
    /// frees them.
    /// - Precondition: `1 <= atLeast <= upTo` and `atLeast <= limit`.
    public func acquire(atLeast: Int, upTo: Int, then granted: @escaping @Sendable (Int) -> Void) {
        precondition(1 <= atLeast && atLeast <= upTo && atLeast <= limit, "asked for \(atLeast)…\(upTo) of \(limit) permits")
        let taken = state.withLock { state -> Int? in
            guard state.waiters.isEmpty, state.available >= atLeast else {
                state.waiters.append(Waiter(atLeast: atLeast, upTo: upTo, granted: granted))
                return nil
            }
            let taken = min(state.available, upTo)
            state.available -= taken
            return taken
        }
        if let taken { granted(taken) }
    }

    /// Gives back `count` permits, passing them to waiters in order.
    public func release(_ count: Int = 1) {
        let woken = state.withLock { state in
            state.available += count
            var woken: [(granted: @Sendable (Int) -> Void, count: Int)] = []
            while let first = state.waiters.first, first.atLeast <= state.available {
                let taken = min(state.available, first.upTo)
                state.available -= taken
                woken.append((state.waiters.removeFirst().granted, taken))
            }
            return woken
        }
        for (granted, count) in woken { granted(count) }
    }
}
