import SparrowDispatch
import Testing
import SparrowCore
import Synchronization

@Suite struct AsyncPermitsTests {
    /// What the grants of a test received, in order.
    final class Grants: Sendable {
        private let log = Lock<[String]>([])

        func record(_ entry: String) { log.withLock { $0.append(entry) } }
        var entries: [String] { log.withLock { $0 } }
    }

    @Test func aRangeTakesWhatIsFreeUpToItsTop() {
        let permits = AsyncPermits(8)
        let grants = Grants()
        permits.acquire(3) { grants.record("three") }
        permits.acquire(atLeast: 2, upTo: 10) { grants.record("range \($0)") }  // 5 are free: all of them
        #expect(grants.entries == ["three", "range 5"])
    }

    @Test func aWaiterWakesOnlyOnceItsLeastIsFreeAndInOrder() {
        let permits = AsyncPermits(4)
        let grants = Grants()
        permits.acquire(4) { grants.record("all") }
        permits.acquire(atLeast: 3, upTo: 4) { grants.record("first \($0)") }
        permits.acquire(1) { grants.record("second") }  // behind the first, though one permit would do
        permits.release()
        permits.release()
        #expect(grants.entries == ["all"])  // two free: not yet the first's three
        permits.release()
        #expect(grants.entries == ["all", "first 3"])
        permits.release()
        #expect(grants.entries == ["all", "first 3", "second"])
    }

    @Test func theAsyncFormWaitsForItsPermits() async throws {
        let permits = AsyncPermits(2)
        try await permits.acquire(2)
        let grants = Grants()
        permits.acquire(2) { grants.record("callback") }  // queued first: served first
        async let taken: Void = permits.acquire(1)
        permits.release(2)
        #expect(grants.entries == ["callback"])
        permits.release(1)
        try await taken
    }

    /// A task cancelled while it waits ends with `CancellationError` holding nothing, and the waiters behind it,
    /// which it held up, are served.
    @Test func aCancelledWaiterLeavesTheQueueAndTheNextMovesUp() async throws {
        let permits = AsyncPermits(3)
        try await permits.acquire(2)
        let waiting = Task { try await permits.acquire(3) }  // needs all three: waits
        while true {  // until it is queued: a callback behind it is not served though one permit is free
            let grants = Grants()
            permits.acquire(1) { grants.record("probe") }
            if grants.entries.isEmpty { break }
            permits.release(1)
            await Task.yield()
        }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        // The probe behind it took the free permit; the cancelled task took none.
        let grants = Grants()
        permits.acquire(1) { grants.record("last") }
        #expect(grants.entries.isEmpty)
        permits.release(3)
        #expect(grants.entries == ["last"])
    }

    @Test func aTaskCancelledBeforeItAsksGetsNothing() async throws {
        let permits = AsyncPermits(1)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await permits.acquire(1)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        let grants = Grants()
        permits.acquire(1) { grants.record("free") }
        #expect(grants.entries == ["free"])
    }
}
