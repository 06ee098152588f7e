import SparrowDispatch
import Synchronization
import Testing

@Suite struct AsyncPermitsTests {
    /// What the grants of a test received, in order.
    final class Grants: Sendable {
        private let log = Mutex<[String]>([])

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

    @Test func theAsyncFormsWaitForTheirPermits() async {
        let permits = AsyncPermits(2)
        await permits.acquire(2)
        async let taken = permits.acquire(atLeast: 1, upTo: 2)
        permits.release(2)
        #expect(await taken == 2)
    }
}
