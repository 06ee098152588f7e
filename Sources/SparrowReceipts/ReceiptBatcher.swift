import SparrowStore
import SparrowCore
import Synchronization

/// Gathers the receipts of concurrent requests into batches for the store, so that a flood of receipts makes one
/// transaction per batch instead of one per receipt (group commit). Each request waits for the commit of the batch
/// that holds its receipt, so that its 200 means the receipt is durable.
///
/// A batch is written as soon as no receipt request is still being read (`beginRead`): every request that could
/// join it has joined, and a gateway that posts with a few connections sends nothing more until it has its answers.
/// While requests keep arriving, a batch is written `window` after its first receipt, or as soon as it holds
/// `maxBatch` receipts. Receipts that arrive while a batch commits form the next one. A request's receipts (one, or a
/// list) always share a batch, so a batch may exceed `maxBatch` by one request's list.
///
/// One writer (`run`) owns the store calls; requests hand receipts in under a lock and park on a continuation that
/// the writer resumes after the commit. The writer itself parks when there is nothing to do, and is woken by the
/// first receipt of a batch, by the last read ending, by a full batch, by the end of the window, or by `stop`.
final class ReceiptBatcher: Sendable {
    /// What the writer waits for.
    private enum Wait {
        /// A first receipt.
        case receipt
        /// The end of the open batch: no request being read, full, window over, or stopping.
        case batchEnd
    }

    private struct State: Sendable {
        var receipts: [ReceiptRecord] = []
        /// One per request, in the same order, with the number of its receipts.
        var waiters: [(continuation: CheckedContinuation<Void, any Error>, count: Int)] = []
        /// Requests that began reading a receipt and have not yet handed it in or ended without one.
        var reading = 0
        /// The writer, while it is parked, and what for.
        var writer: (continuation: CheckedContinuation<Void, Never>, wait: Wait)?
        /// The open batch's window has passed.
        var windowOver = false
        var stopped = false

        func satisfies(_ wait: Wait, maxBatch: Int) -> Bool {
            switch wait {
            case .receipt: !receipts.isEmpty || stopped
            case .batchEnd: reading == 0 || receipts.count >= maxBatch || windowOver || stopped
            }
        }

        /// The parked writer, taken, if what it waits for has come.
        mutating func writerToWake(maxBatch: Int) -> CheckedContinuation<Void, Never>? {
            guard let writer, satisfies(writer.wait, maxBatch: maxBatch) else { return nil }
            self.writer = nil
            return writer.continuation
        }
    }

    private let state = Lock(State())
    private let store: any CampaignStore
    private let maxBatch: Int
    private let window: Duration
    private let metrics: ReceiptMetrics
    /// Sleeps for a duration on the batcher's clock, ending early with an error when cancelled.
    private let sleep: @Sendable (Duration) async throws -> Void

    /// - Parameter sleep: sleeps for a duration on the server's clock (the batch window's), ending early with an
    ///   error when cancelled.
    init(
        store: any CampaignStore, maxBatch: Int, window: Duration, metrics: ReceiptMetrics,
        sleep: @escaping @Sendable (Duration) async throws -> Void
    ) {
        precondition(maxBatch >= 1, "a batch holds at least one receipt")
        self.store = store
        self.maxBatch = maxBatch
        self.window = window
        self.metrics = metrics
        self.sleep = sleep
    }

    /// What the batcher holds at one moment.
    struct Backlog {
        /// Requests reading a receipt, which the open batch waits for.
        var reading: Int
        /// Receipts handed in and not yet being written.
        var queued: Int
    }

    var backlog: Backlog {
        state.withLock { Backlog(reading: $0.reading, queued: $0.receipts.count) }
    }

    /// A request has begun reading a receipt: the open batch waits for it (within its window). Every call is
    /// followed by one `commit` or one `endRead`.
    func beginRead() {
        state.withLock { $0.reading += 1 }
    }

    /// A request that began reading ends without a receipt to write (refused, or an intermediate status).
    func endRead() {
        state.withLock { state in
            state.reading -= 1
            return state.writerToWake(maxBatch: maxBatch)
        }?.resume()
    }

    /// Ends the request's read: adds its `receipts` (at least one) to the open batch and returns once that batch is
    /// committed.
    /// - Throws: the store's error when the batch could not be written; `CancellationError` after `stop`.
    func commit(_ receipts: [ReceiptRecord]) async throws {
        precondition(!receipts.isEmpty, "a request without receipts ends with endRead")
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            let (accepted, writer): (Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
                state.reading -= 1
                guard !state.stopped else { return (false, nil) }
                state.receipts += receipts
                state.waiters.append((waiter, receipts.count))
                return (true, state.writerToWake(maxBatch: maxBatch))
            }
            writer?.resume()
            if !accepted { waiter.resume(throwing: CancellationError()) }
        }
    }

    /// Writes batches until `stop` is called or the task is cancelled, then writes what it still holds and returns.
    func run() async {
        while true {
            await park(until: .receipt)
            await awaitBatchEnd()
            let (receipts, waiters, finished) = state.withLock { state in
                var requests = 0
                var count = 0
                for waiter in state.waiters {
                    guard requests == 0 || count + waiter.count <= maxBatch else { break }
                    requests += 1
                    count += waiter.count
                }
                let batch = (Array(state.receipts.prefix(count)), state.waiters.prefix(requests).map(\.continuation))
                state.receipts.removeFirst(count)
                state.waiters.removeFirst(requests)
                state.windowOver = false
                return (batch.0, batch.1, state.stopped && state.receipts.isEmpty)
            }
            if !receipts.isEmpty { await write(receipts, waiters) }
            if finished { return }
        }
    }

    /// Refuses new receipts and lets `run` write what it holds and return.
    func stop() {
        state.withLock { state in
            state.stopped = true
            return state.writerToWake(maxBatch: maxBatch)
        }?.resume()
    }

    /// Returns when the open batch may be written, starting its window's timer only if it cannot be at once.
    private func awaitBatchEnd() async {
        guard !state.withLock({ $0.satisfies(.batchEnd, maxBatch: maxBatch) }) else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await self.sleep(self.window) } catch { return }  // cancelled: the batch ended first
                self.state.withLock { state in
                    state.windowOver = true
                    return state.writerToWake(maxBatch: self.maxBatch)
                }?.resume()
            }
            await park(until: .batchEnd)
            group.cancelAll()
        }
    }

    /// Parks the writer until the state satisfies `wait`; cancellation stops the batcher.
    private func park(until wait: Wait) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (writer: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if state.satisfies(wait, maxBatch: maxBatch) { return true }
                    state.writer = (writer, wait)
                    return false
                }
                if ready { writer.resume() }
            }
        } onCancel: {
            self.stop()
        }
    }

    private func write(_ receipts: [ReceiptRecord], _ waiters: [CheckedContinuation<Void, any Error>]) async {
        do {
            let moved = try await store.apply(receipts)
            metrics.committed(receipts.count, moved: moved)
            for waiter in waiters { waiter.resume() }
        } catch {
            for waiter in waiters { waiter.resume(throwing: error) }
        }
    }
}
