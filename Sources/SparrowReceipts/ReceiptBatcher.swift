import SparrowStore
import Synchronization

/// Gathers the receipts of concurrent requests into batches for the store, so that a flood of receipts makes one
/// transaction per batch instead of one per receipt (group commit). A batch is written `window` after its first
/// receipt, or as soon as it holds `maxBatch` receipts; each request waits for the commit of the batch that holds
/// its receipt, so that its 200 means the receipt is durable.
///
/// One writer (`run`) owns the store calls; requests hand receipts in under a lock and park on a continuation that
/// the writer resumes after the commit. The writer itself parks when there is nothing to do, and is woken by the
/// first receipt of a batch, by a full batch, by the end of the window, or by `stop`.
final class ReceiptBatcher: Sendable {
    /// What the writer waits for.
    private enum Wait {
        /// A first receipt.
        case receipt
        /// The end of the open batch: full, window over, or stopping.
        case batchEnd
    }

    private struct State: Sendable {
        var receipts: [ReceiptRecord] = []
        /// One per receipt, in the same order.
        var waiters: [CheckedContinuation<Void, any Error>] = []
        /// The writer, while it is parked.
        var writer: CheckedContinuation<Void, Never>?
        /// The open batch's window has passed.
        var windowOver = false
        var stopped = false

        func satisfies(_ wait: Wait, maxBatch: Int) -> Bool {
            switch wait {
            case .receipt: !receipts.isEmpty || stopped
            case .batchEnd: receipts.count >= maxBatch || windowOver || stopped
            }
        }

        mutating func takeWriter() -> CheckedContinuation<Void, Never>? {
            defer { writer = nil }
            return writer
        }
    }

    private let state = Mutex(State())
    private let store: any CampaignStore
    private let maxBatch: Int
    private let window: Duration
    private let metrics: ReceiptMetrics

    init(store: any CampaignStore, maxBatch: Int, window: Duration, metrics: ReceiptMetrics) {
        precondition(maxBatch >= 1, "a batch holds at least one receipt")
        self.store = store
        self.maxBatch = maxBatch
        self.window = window
        self.metrics = metrics
    }

    /// Adds `receipt` to the open batch and returns once that batch is committed.
    /// - Throws: the store's error when the batch could not be written; `CancellationError` after `stop`.
    func commit(_ receipt: ReceiptRecord) async throws {
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            let (accepted, writer): (Bool, CheckedContinuation<Void, Never>?) = state.withLock { state in
                guard !state.stopped else { return (false, nil) }
                state.receipts.append(receipt)
                state.waiters.append(waiter)
                // The first receipt starts the window; a full batch ends it.
                let wakes = state.receipts.count == 1 || state.receipts.count >= maxBatch
                return (true, wakes ? state.takeWriter() : nil)
            }
            writer?.resume()
            if !accepted { waiter.resume(throwing: CancellationError()) }
        }
    }

    /// Writes batches until `stop` is called or the task is cancelled, then writes what it still holds and returns.
    func run() async {
        while true {
            await park(until: .receipt)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do { try await Task.sleep(for: self.window) } catch { return }  // cancelled: the batch ended first
                    self.state.withLock { state in
                        state.windowOver = true
                        return state.takeWriter()
                    }?.resume()
                }
                await park(until: .batchEnd)
                group.cancelAll()
            }
            let (receipts, waiters, finished) = state.withLock { state in
                let count = min(state.receipts.count, maxBatch)
                let batch = (Array(state.receipts.prefix(count)), Array(state.waiters.prefix(count)))
                state.receipts.removeFirst(count)
                state.waiters.removeFirst(count)
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
            return state.takeWriter()
        }?.resume()
    }

    /// Parks the writer until the state satisfies `wait`; cancellation stops the batcher.
    private func park(until wait: Wait) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (writer: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state in
                    if state.satisfies(wait, maxBatch: maxBatch) { return true }
                    state.writer = writer
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
