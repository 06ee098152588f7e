import Prometheus
import SparrowCore
import SparrowStore
import SparrowTestSupport
import Testing

@testable import SparrowReceipts

/// The batcher on its own, over a real store, with a clock that moves only when told: which receipts share a
/// transaction, and when it is written.
@Suite(.timeLimit(.minutes(1))) struct ReceiptBatcherTests {
    /// A batcher over a store with campaign `c1`'s messages 1…8 accepted as `g-1`…`g-8`, and its metrics' registry.
    private func batcher(maxBatch: Int = 256, clock: TestClock) async throws -> (
        ReceiptBatcher, PrometheusCollectorRegistry
    ) {
        let registry = PrometheusCollectorRegistry()
        let batcher = ReceiptBatcher(
            store: try await seededStore(messages: 8), maxBatch: maxBatch, window: .milliseconds(20),
            metrics: ReceiptMetrics(factory: PrometheusMetricsFactory(registry: registry)),
            sleep: { try await clock.sleep(for: $0) })
        return (batcher, registry)
    }

    private func receipt(_ line: Int) -> ReceiptRecord {
        ReceiptRecord(gateway: nil, gatewayMessageID: "g-\(line)", state: .delivered, at: fixedNow)
    }

    private func batches(_ registry: PrometheusCollectorRegistry) -> Int? {
        metric(registry.emitToString(), "sparrow_receipt_batches_total")
    }

    /// Requests read at the same time share one transaction: the batch waits for the last read, and every commit
    /// returns once it is written.
    @Test func concurrentRequestsShareOneBatch() async throws {
        let clock = TestClock()
        let (batcher, registry) = try await batcher(clock: clock)
        let writer = Task { await batcher.run() }
        for _ in 1...3 { await batcher.beginRead() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for line in 1...3 { group.addTask { try await batcher.commit([receipt(line)]) } }
            try await group.waitForAll()
        }
        #expect(batches(registry) == 1)
        #expect(clock.sleeps <= 1)  // the window's timer, started while the reads went on, never had to end it
        await batcher.stop()
        await writer.value
    }

    /// A request still being read holds the batch back for the window at most: then the others are written.
    @Test func aSlowReadHoldsTheBatchForItsWindowOnly() async throws {
        let clock = TestClock()
        let (batcher, registry) = try await batcher(clock: clock)
        let writer = Task { await batcher.run() }
        await batcher.beginRead()  // never handed in
        await batcher.beginRead()
        let committed = Task { try await batcher.commit([receipt(1)]) }
        try await clock.sleeper(until: .milliseconds(20))
        #expect(batches(registry) == 0)
        clock.advance(by: .milliseconds(20))
        try await committed.value
        #expect(batches(registry) == 1)
        await batcher.endRead()
        await batcher.stop()
        await writer.value
    }

    /// A full batch is written at once, without waiting for a read still going on; a request's list is never split,
    /// though it fills a batch past its size.
    @Test func aFullBatchGoesAtOnce() async throws {
        let clock = TestClock()
        let (batcher, registry) = try await batcher(maxBatch: 2, clock: clock)
        let writer = Task { await batcher.run() }
        await batcher.beginRead()  // never handed in: would hold the batch for its window, which never ends here
        for _ in 1...2 { await batcher.beginRead() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for line in 1...2 { group.addTask { try await batcher.commit([receipt(line)]) } }
            try await group.waitForAll()
        }
        #expect(batches(registry) == 1)
        await batcher.beginRead()
        try await batcher.commit([receipt(3), receipt(4), receipt(5)])
        #expect(batches(registry) == 2)
        #expect(metric(registry.emitToString(), "sparrow_receipts_applied_total") == 5)
        await batcher.endRead()
        await batcher.stop()
        await writer.value
    }

    /// Cancelling the writer while it waits for a first receipt stops the batcher: `run` returns, and a receipt
    /// handed in after is refused rather than left waiting for a commit that will not come.
    @Test func aCancelledWriterStopsTheBatcher() async throws {
        let clock = TestClock()
        let (batcher, _) = try await batcher(clock: clock)
        let writer = Task { await batcher.run() }
        writer.cancel()
        await writer.value
        await batcher.beginRead()
        await #expect(throws: CancellationError.self) { try await batcher.commit([receipt(1)]) }
    }

    @Test func aStoppedBatcherRefusesNewReceipts() async throws {
        let clock = TestClock()
        let (batcher, _) = try await batcher(clock: clock)
        let writer = Task { await batcher.run() }
        await batcher.stop()
        await writer.value
        await batcher.beginRead()
        await #expect(throws: CancellationError.self) { try await batcher.commit([receipt(1)]) }
    }
}
