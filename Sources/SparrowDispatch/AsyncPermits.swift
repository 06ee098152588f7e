import DequeModule
import SparrowCore
import Synchronization

/// A counting semaphore for tasks and callbacks: at most `limit` permits are held at once, later callers wait in
/// order. A caller may take several permits at once, all or none, so callers that each need several cannot
/// deadlock by holding parts. Waiting never blocks a thread.
package final class AsyncPermits: Sendable {
    private struct Waiter {
        enum Grant {
            case callback(@Sendable (Int) -> Void)
            /// A task waiting in `acquire`, by its id, so that cancelling it finds it.
            case task(UInt64, CheckedContinuation<Void, any Error>)

            var taskID: UInt64? {
                if case .task(let id, _) = self { id } else { nil }
            }
        }

        var atLeast: Int
        var upTo: Int
        var grant: Grant

        func wake(_ count: Int) {
            switch grant {
            case .callback(let granted): granted(count)
            case .task(_, let continuation): continuation.resume()
            }
        }
    }

    private struct State {
        var available: Int
        var waiters = Deque<Waiter>()

        /// Takes the permits of the waiters at the front that can now be served, and returns them with their counts.
        mutating func grantWaiting() -> [(Waiter, Int)] {
            var woken: [(Waiter, Int)] = []
            while let first = waiters.first, first.atLeast <= available {
                let taken = min(available, first.upTo)
                available -= taken
                woken.append((waiters.removeFirst(), taken))
            }
            return woken
        }
    }

    package let limit: Int
    private let state: Lock<State>
    /// Numbers each task that waits, so that its cancellation finds it.
    private let waits = Atomic<UInt64>(0)

    package init(_ limit: Int) {
        precondition(limit >= 1, "a permit pool needs a permit")
        self.limit = limit
        state = Lock(State(available: limit))
    }

    /// Takes `count` permits, waiting until all of them are free and every earlier caller has been served.
    /// - Throws: `CancellationError` when the task is cancelled before they are granted; it then holds none, and
    ///   the callers behind it move up.
    /// - Precondition: `1 <= count <= limit`.
    package func acquire(_ count: Int = 1, isolation: isolated (any Actor)? = #isolation) async throws {
        precondition(1 <= count && count <= limit, "asked for \(count) of \(limit) permits")
        let id = waits.add(1, ordering: .relaxed).oldValue
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation(isolation: isolation) {
                (continuation: CheckedContinuation<Void, any Error>) in
                let granted = state.withLock { state -> Bool? in
                    if Task.isCancelled { return nil }
                    guard state.waiters.isEmpty, state.available >= count else {
                        state.waiters.append(Waiter(atLeast: count, upTo: count, grant: .task(id, continuation)))
                        return false
                    }
                    state.available -= count
                    return true
                }
                switch granted {
                case nil: continuation.resume(throwing: CancellationError())
                case true?: continuation.resume()
                case false?: break
                }
            }
        } onCancel: {
            let (cancelled, woken) = state.withLock { state -> (Waiter?, [(Waiter, Int)]) in
                guard let index = state.waiters.firstIndex(where: { $0.grant.taskID == id }) else { return (nil, []) }
                let cancelled = state.waiters.remove(at: index)
                return (cancelled, state.grantWaiting())
            }
            if case .task(_, let continuation)? = cancelled?.grant {
                continuation.resume(throwing: CancellationError())
            }
            for (waiter, count) in woken { waiter.wake(count) }
        }
    }

    /// Takes `count` permits and runs `granted`: at once on this thread if they are free and nobody waits before,
    /// otherwise on the thread of the `release` that frees them.
    /// - Precondition: `1 <= count <= limit`.
    package func acquire(_ count: Int = 1, then granted: @escaping @Sendable () -> Void) {
        acquire(atLeast: count, upTo: count) { _ in granted() }
    }

    /// Takes from `atLeast` to `upTo` permits, as many as are free, and runs `granted` with the number taken: at once
    /// on this thread if `atLeast` are free and nobody waits before, otherwise on the thread of the `release` that
    /// frees them.
    /// - Precondition: `1 <= atLeast <= upTo` and `atLeast <= limit`.
    package func acquire(atLeast: Int, upTo: Int, then granted: @escaping @Sendable (Int) -> Void) {
        precondition(
            1 <= atLeast && atLeast <= upTo && atLeast <= limit, "asked for \(atLeast)…\(upTo) of \(limit) permits")
        let taken = state.withLock { state -> Int? in
            guard state.waiters.isEmpty, state.available >= atLeast else {
                state.waiters.append(Waiter(atLeast: atLeast, upTo: upTo, grant: .callback(granted)))
                return nil
            }
            let taken = min(state.available, upTo)
            state.available -= taken
            return taken
        }
        if let taken { granted(taken) }
    }

    /// Gives back `count` permits, passing them to waiters in order.
    package func release(_ count: Int = 1) {
        let woken = state.withLock { state in
            state.available += count
            return state.grantWaiting()
        }
        for (waiter, count) in woken { waiter.wake(count) }
    }
}
