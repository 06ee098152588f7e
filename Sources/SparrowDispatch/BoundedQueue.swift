import Dispatch
import DequeModule
import SparrowCore
import Synchronization

/// A first-in first-out queue between tasks holding at most `capacity` elements: `put` waits while it is full and
/// `next` while it is empty, so a fast producer is held back by a slow consumer and memory stays bounded. One
/// consumer; any number of producers. Waiting never blocks a thread, and a cancelled task stops waiting.
package final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State {
        var elements = Deque<Element>()
        var closed = false
        var consumer: (id: UInt64, continuation: CheckedContinuation<Element?, any Error>)?
        var producers = Deque<(id: UInt64, element: Element, continuation: CheckedContinuation<Bool, any Error>)>()
    }

    /// What a `put` does once it has looked at the queue.
    private enum PutStep {
        case handOver(to: CheckedContinuation<Element?, any Error>)
        case answer(Bool)
        case wait
        case cancelled
    }

    /// What a `next` does once it has looked at the queue.
    private enum NextStep {
        case take(Element?, freeing: CheckedContinuation<Bool, any Error>?)
        case wait
        case cancelled
    }

    package let capacity: Int
    private let state = Lock(State())
    /// Numbers each wait, so that its cancellation finds it.
    private let waits = Atomic<UInt64>(0)

    package init(capacity: Int) {
        precondition(capacity >= 1, "a queue needs room for an element")
        self.capacity = capacity
    }

    /// Adds `element`, waiting while the queue is full.
    /// - Returns: false when the queue was closed, and `element` was dropped.
    /// - Throws: `CancellationError` when the task is cancelled while it waits; `element` was not added.
    @discardableResult
    package func put(_ element: Element) async throws -> Bool {
        let id = waits.add(1, ordering: .relaxed).oldValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
                let step = state.withLock { state -> PutStep in
                    if state.closed { return .answer(false) }
                    if let consumer = state.consumer {
                        state.consumer = nil
                        return .handOver(to: consumer.continuation)
                    }
                    if state.elements.count < capacity {
                        state.elements.append(element)
                        return .answer(true)
                    }
                    if Task.isCancelled { return .cancelled }
                    state.producers.append((id, element, continuation))
                    return .wait
                }
                switch step {
                case .handOver(to: let consumer):
                    consumer.resume(returning: element)
                    continuation.resume(returning: true)
                case .answer(let accepted): continuation.resume(returning: accepted)
                case .wait: break
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let producer = state.withLock { state in
                state.producers.firstIndex { $0.id == id }.map { state.producers.remove(at: $0).continuation }
            }
            producer?.resume(throwing: CancellationError())
        }
    }

    /// The next element, waiting while the queue is empty; nil once it is closed and drained.
    /// - Throws: `CancellationError` when the task is cancelled while it waits.
    package func next() async throws -> Element? {
        let id = waits.add(1, ordering: .relaxed).oldValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element?, any Error>) in
                let step = state.withLock { state -> NextStep in
                    if let first = state.elements.popFirst() {
                        guard let waiting = state.producers.popFirst() else { return .take(first, freeing: nil) }
                        state.elements.append(waiting.element)
                        return .take(first, freeing: waiting.continuation)
                    }
                    if state.closed { return .take(nil, freeing: nil) }
                    if Task.isCancelled { return .cancelled }
                    precondition(state.consumer == nil, "a bounded queue has one consumer")
                    state.consumer = (id, continuation)
                    return .wait
                }
                switch step {
                case .take(let element, freeing: let producer):
                    producer?.resume(returning: true)
                    continuation.resume(returning: element)
                case .wait: break
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let consumer = state.withLock { state -> CheckedContinuation<Element?, any Error>? in
                guard let consumer = state.consumer, consumer.id == id else { return nil }
                state.consumer = nil
                return consumer.continuation
            }
            consumer?.resume(throwing: CancellationError())
        }
    }

    /// Ends the queue: `next` drains what is queued and then returns nil; later and waiting `put`s return false.
    package func close() {
        let (consumer, producers) = state.withLock { state in
            state.closed = true
            defer {
                state.consumer = nil
                state.producers.removeAll()
            }
            return (state.elements.isEmpty ? state.consumer?.continuation : nil, state.producers.map(\.continuation))
        }
        consumer?.resume(returning: nil)
        for producer in producers { producer.resume(returning: false) }
    }
}

extension BoundedQueue: AsyncSequence {
    /// Adds `element` from a thread that may block (a reader's own), waiting while the queue is full.
    /// - Returns: false when the queue was closed, and `element` was dropped.
    package func putBlocking(_ element: Element) -> Bool {
        let done = DispatchSemaphore(value: 0)
        let accepted = Lock(false)
        Task {
            let result = (try? await self.put(element)) ?? false  // never cancelled: the queue's closing ends it
            accepted.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return accepted.withLock { $0 }
    }

    package struct AsyncIterator: AsyncIteratorProtocol {
        let queue: BoundedQueue

        package mutating func next() async throws -> Element? { try await queue.next() }
    }

    package func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
