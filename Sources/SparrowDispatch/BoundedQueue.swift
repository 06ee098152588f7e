import DequeModule
import Synchronization

/// A first-in first-out queue between tasks holding at most `capacity` elements: `put` waits while it is full and
/// `next` while it is empty, so a fast producer is held back by a slow consumer and memory stays bounded. One
/// consumer; any number of producers. Waiting never blocks a thread.
public final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State {
        var elements = Deque<Element>()
        var closed = false
        var consumer: CheckedContinuation<Element?, Never>?
        var producers = Deque<(Element, CheckedContinuation<Bool, Never>)>()
    }

    public let capacity: Int
    private let state = Mutex(State())

    public init(capacity: Int) {
        precondition(capacity >= 1, "a queue needs room for an element")
        self.capacity = capacity
    }

    /// Adds `element`, waiting while the queue is full.
    /// - Returns: false when the queue was closed, and `element` was dropped.
    @discardableResult
    public func put(_ element: Element) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let (consumer, accepted) = state.withLock { state -> (CheckedContinuation<Element?, Never>?, Bool?) in
                if state.closed { return (nil, false) }
                if let consumer = state.consumer {
                    state.consumer = nil
                    return (consumer, true)
                }
                if state.elements.count < capacity {
                    state.elements.append(element)
                    return (nil, true)
                }
                state.producers.append((element, continuation))
                return (nil, nil)
            }
            consumer?.resume(returning: element)
            if let accepted { continuation.resume(returning: accepted) }
        }
    }

    /// The next element, waiting while the queue is empty; nil once it is closed and drained.
    public func next() async -> Element? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
            let (element, producer) = state.withLock { state -> (Element??, CheckedContinuation<Bool, Never>?) in
                if let first = state.elements.popFirst() {
                    guard let (waiting, producer) = state.producers.popFirst() else { return (first, nil) }
                    state.elements.append(waiting)
                    return (first, producer)
                }
                if state.closed { return (.some(nil), nil) }
                precondition(state.consumer == nil, "a bounded queue has one consumer")
                state.consumer = continuation
                return (nil, nil)
            }
            producer?.resume(returning: true)
            if let element { continuation.resume(returning: element) }
        }
    }

    /// Ends the queue: `next` drains what is queued and then returns nil; later and waiting `put`s return false.
    public func close() {
        let (consumer, producers) = state.withLock { state in
            state.closed = true
            defer {
                state.consumer = nil
                state.producers.removeAll()
            }
            return (state.elements.isEmpty ? state.consumer : nil, state.producers.map(\.1))
        }
        consumer?.resume(returning: nil)
        for producer in producers { producer.resume(returning: false) }
    }
}

extension BoundedQueue: AsyncSequence {
    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: BoundedQueue

        public mutating func next() async -> Element? { await queue.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(queue: self) }
}
