import SparrowStore
import SparrowCore

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
/// The batcher is an actor that owns the open batch and the requests waiting on it. One writer (`run`) owns the
/// store calls; requests hand receipts in and park on a continuation that the writer resumes after the commit. The
/// writer itself parks when there is nothing to do, and is woken by the first receipt of a batch, by the last read
/// ending, by a full batch, by the end of the window, or by `stop`. While a batch commits, the actor takes the
/// receipts of the next one.
actor ReceiptBatcher {
    /// What the writer waits for.
    private enum Wait {
        /// A first receipt.
        case receipt
        /// The end of the open batch: no request being read, full, window over, or stopping.
        case batchEnd
    }

    private var receipts: [ReceiptRecord] = []
    /// One per request, in the same order, with the number of its receipts.
    private var waiters: [(continuation: CheckedContinuation<Void, any Error>, count: Int)] = []
    /// Requests that began reading a receipt and have not yet handed it in or ended without one.
    private var reading = 0
    /// The writer, while it is parked, and what for.
    private var writer: (continuation: CheckedContinuation<Void, Never>, wait: Wait)?
    /// The open batch, counted from 0: a window's timer ends only the batch it was started for.
    private var batch = 0
    /// The open batch's window has passed.
    private var windowOver = false
    private var stopped = false

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

    var backlog: Backlog { Backlog(reading: reading, queued: receipts.count) }

    /// A request has begun reading a receipt: the open batch waits for it (within its window). Every call is
    /// followed by one `commit` or one `endRead`.
    func beginRead() {
        reading += 1
    }

    /// A request that began reading ends without a receipt to write (refused, or an intermediate status).
    func endRead() {
        reading -= 1
        wakeWriter()
    }

    /// Ends the request's read: adds its `receipts` (at least one) to the open batch and returns once that batch is
    /// committed.
    /// - Throws: the store's error when the batch could not be written; `CancellationError` after `stop`.
    func commit(_ receipts: [ReceiptRecord]) async throws {
        precondition(!receipts.isEmpty, "a request without receipts ends with endRead")
        reading -= 1
        guard !stopped else { throw CancellationError() }
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            self.receipts += receipts
            waiters.append((waiter, receipts.count))
            wakeWriter()
        }
    }

    /// Writes batches until `stop` is called or the task is cancelled, then writes what it still holds and returns.
    func run() async {
        while true {
            await park(until: .receipt)
            await awaitBatchEnd()
            var requests = 0
            var count = 0
            for waiter in waiters {
                guard requests == 0 || count + waiter.count <= maxBatch else { break }
                requests += 1
                count += waiter.count
            }
            let written = Array(receipts.prefix(count))
            let answered = waiters.prefix(requests).map(\.continuation)
            receipts.removeFirst(count)
            waiters.removeFirst(requests)
            batch += 1
            windowOver = false
            let finished = stopped && receipts.isEmpty
            if !written.isEmpty { await write(written, answered) }
            if finished { return }
        }
    }

    /// Refuses new receipts and lets `run` write what it holds and return.
    func stop() {
        stopped = true
        wakeWriter()
    }

    private func satisfies(_ wait: Wait) -> Bool {
        switch wait {
        case .receipt: !receipts.isEmpty || stopped
        case .batchEnd: reading == 0 || receipts.count >= maxBatch || windowOver || stopped
        }
    }

    /// Resumes the parked writer if what it waits for has come.
    private func wakeWriter() {
        guard let writer, satisfies(writer.wait) else { return }
        self.writer = nil
        writer.continuation.resume()
    }

    /// Returns when the open batch may be written, starting its window's timer only if it cannot be at once.
    private func awaitBatchEnd() async {
        guard !satisfies(.batchEnd) else { return }
        let batch = batch
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await self.sleep(self.window) } catch { return }  // cancelled: the batch ended first
                await self.endWindow(of: batch)
            }
            await park(until: .batchEnd)
            group.cancelAll()
        }
    }

    private func endWindow(of batch: Int) {
        guard batch == self.batch else { return }  // its batch has been written already
        windowOver = true
        wakeWriter()
    }

    /// Parks the writer until what it waits for has come; cancellation stops the batcher.
    private func park(until wait: Wait) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (writer: CheckedContinuation<Void, Never>) in
                if satisfies(wait) || Task.isCancelled {
                    writer.resume()
                } else {
                    self.writer = (writer, wait)
                }
            }
        } onCancel: {
            Task { await self.stop() }
        }
        if Task.isCancelled { stopped = true }
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
