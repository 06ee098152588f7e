import SparrowDispatch
import Testing

@Suite struct BoundedQueueTests {
    @Test func elementsComeOutInOrderAndCloseEndsTheSequence() async throws {
        let queue = BoundedQueue<Int>(capacity: 3)
        let producer = Task {
            for value in 0..<100 {
                let accepted = try await queue.put(value)
                #expect(accepted)
            }
            queue.close()
        }
        var received: [Int] = []
        for try await value in queue { received.append(value) }
        try await producer.value
        #expect(received == Array(0..<100))
    }

    /// A producer ahead of its consumer waits with the queue full: what is queued never exceeds the capacity.
    @Test func aFullQueueHoldsItsProducerBack() async throws {
        let queue = BoundedQueue<Int>(capacity: 2)
        #expect(try await queue.put(1))
        #expect(try await queue.put(2))
        let third = Task { try await queue.put(3) }
        #expect(try await queue.next() == 1)  // frees a place: the third goes in
        #expect(try await third.value)
        #expect(try await queue.next() == 2)
        #expect(try await queue.next() == 3)
    }

    @Test func closingDropsWaitingPutsAndDrainsWhatIsQueued() async throws {
        let queue = BoundedQueue<String>(capacity: 1)
        #expect(try await queue.put("kept"))
        let waiting = Task { try await queue.put("dropped") }  // full: waits, unless the close comes first
        queue.close()
        #expect(try await waiting.value == false)
        #expect(try await queue.put("late") == false)
        #expect(try await queue.next() == "kept")
        #expect(try await queue.next() == nil)
    }

    @Test func aConsumerCancelledWhileTheQueueIsEmptyEndsWithCancellationError() async throws {
        let queue = BoundedQueue<Int>(capacity: 1)
        let consumer = Task { try await queue.next() }
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
        // The queue goes on working for a consumer after it.
        #expect(try await queue.put(7))
        #expect(try await queue.next() == 7)
    }

    @Test func aProducerCancelledWhileTheQueueIsFullEndsWithCancellationErrorAndAddsNothing() async throws {
        let queue = BoundedQueue<Int>(capacity: 1)
        #expect(try await queue.put(1))
        let producer = Task { try await queue.put(2) }
        producer.cancel()
        await #expect(throws: CancellationError.self) { try await producer.value }
        queue.close()
        #expect(try await queue.next() == 1)
        #expect(try await queue.next() == nil)  // the cancelled element never went in
    }
}
