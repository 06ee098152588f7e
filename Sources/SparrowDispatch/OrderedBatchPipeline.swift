import Foundation
import SparrowCore
import Synchronization

/// Runs a CPU-bound transform over batches on several threads while keeping input order: a producer thread makes
/// batches, `workers` threads transform them, and the calling thread consumes the results in the order the
/// batches were produced.
///
/// Memory is bounded: at most `maxInFlight` batches exist between production and consumption; the producer
/// blocks until the consumer has finished an older one. The threads are our own, never the cooperative pool's,
/// because the producer blocks in `read(2)` and the work is synchronous.
package struct OrderedBatchPipeline<Input: Sendable, Output: Sendable> {
    package let workers: Int
    package let maxInFlight: Int

    package init(workers: Int, maxInFlight: Int? = nil) {
        precondition(workers >= 1, "a pipeline needs a worker")
        self.workers = workers
        self.maxInFlight = maxInFlight ?? workers * 4
    }

    /// Runs the pipeline to completion.
    ///
    /// - Parameters:
    ///   - produce: called on the producer thread with a `send` function; returns when the input is exhausted.
    ///   - makeWorker: called once per worker thread; the returned function holds that thread's state.
    ///   - consume: called on the calling thread with each output, in production order; it may change the output in
    ///     place, which is then dropped.
    /// - Throws: the first error thrown by `produce` or `consume`; the other stages stop early, and every thread
    ///   has ended when this returns.
    package func run(
        produce: @escaping @Sendable (_ send: (Input) throws -> Void) throws -> Void,
        makeWorker: @escaping @Sendable () -> (Input) -> Output,
        consume: (inout Output) throws -> Void
    ) throws {
        let state = PipelineState<Input, Output>(maxInFlight: maxInFlight, threads: workers + 1)
        Thread {
            do {
                try produce { input in try state.send(input) }
                state.finishProducing()
            } catch {
                state.fail(error)
            }
            state.threadEnded()
        }.start()
        for _ in 0..<workers {
            Thread {
                state.work(makeWorker())
                state.threadEnded()
            }.start()
        }
        state.write(consume)
        try state.waitUntilDone()
    }
}

/// The shared state of one pipeline run: queues, counters and the first failure, under one condition lock.
private final class PipelineState<Input: Sendable, Output: Sendable>: Sendable {
    private struct Shared {
        var pending: [(sequence: Int, input: Input)] = []
        var pendingStart = 0
        var done: [Int: Output] = [:]
        var nextSequence = 0
        var nextToWrite = 0
        var inFlight = 0
        var producing = true
        var runningThreads: Int
        var failure: (any Error)?
    }

    private let maxInFlight: Int
    /// Always taken inside `changed`'s lock: the `Lock` is what makes the state `Sendable` to the compiler, and
    /// the condition is what lets threads sleep until the state changes.
    private let shared: Lock<Shared>
    /// Broadcast after every change to `shared`.
    private let changed = NSCondition()

    init(maxInFlight: Int, threads: Int) {
        self.maxInFlight = maxInFlight
        shared = Lock(Shared(runningThreads: threads))
    }

    /// Waits until `ready` holds for the shared state, then runs `body` on it; both under the lock.
    private func waitFor<T>(_ ready: (inout Shared) -> Bool, _ body: (inout Shared) -> T) -> T {
        changed.lock()
        defer { changed.unlock() }
        while true {
            if let result = shared.withLock({ ready(&$0) ? Optional(body(&$0)) : nil }) {
                changed.broadcast()
                return result
            }
            changed.wait()
        }
    }

    func send(_ input: Input) throws {
        let failure = waitFor({ $0.inFlight < maxInFlight || $0.failure != nil }) { shared -> (any Error)? in
            guard shared.failure == nil else { return shared.failure }
            shared.pending.append((shared.nextSequence, input))
            shared.nextSequence += 1
            shared.inFlight += 1
            return nil
        }
        if let failure { throw failure }
    }

    func finishProducing() {
        waitFor({ _ in true }) { $0.producing = false }
    }

    func fail(_ error: any Error) {
        waitFor({ _ in true }) { shared in
            if shared.failure == nil { shared.failure = error }
            shared.producing = false
        }
    }

    func work(_ transform: (Input) -> Output) {
        while true {
            let next = waitFor({ $0.pendingStart < $0.pending.count || !$0.producing || $0.failure != nil }) {
                shared -> (sequence: Int, input: Input)? in
                guard shared.failure == nil, shared.pendingStart < shared.pending.count else { return nil }
                let item = shared.pending[shared.pendingStart]
                shared.pendingStart += 1
                if shared.pendingStart == shared.pending.count {
                    shared.pending.removeAll(keepingCapacity: true)
                    shared.pendingStart = 0
                }
                return item
            }
            guard let next else { return }
            let output = transform(next.input)
            waitFor({ _ in true }) { $0.done[next.sequence] = output }
        }
    }

    func write(_ consume: (inout Output) throws -> Void) {
        while true {
            let next = waitFor({ shared in
                shared.done[shared.nextToWrite] != nil || shared.failure != nil
                    || (!shared.producing && shared.nextToWrite == shared.nextSequence)
            }) { shared -> Output? in
                guard shared.failure == nil else { return nil }
                return shared.done.removeValue(forKey: shared.nextToWrite)
            }
            guard var next else { return }
            do {
                try consume(&next)
                waitFor({ _ in true }) { shared in
                    shared.nextToWrite += 1
                    shared.inFlight -= 1
                }
            } catch {
                fail(error)
            }
        }
    }

    func threadEnded() {
        waitFor({ _ in true }) { $0.runningThreads -= 1 }
    }

    func waitUntilDone() throws {
        let failure = waitFor({ $0.runningThreads == 0 }) { $0.failure }
        if let failure { throw failure }
    }
}
