import PostgresNIO
import SparrowCore
import SparrowStore
import SparrowTestSupport
import Testing

@testable import SparrowPostgres

/// Workers sharing a campaign in PostgreSQL: claims that never overlap while their workers live, a lapsed worker's
/// messages taken over, a worker without its lease sending nothing, and claims handed back.
@Suite(.enabled(if: TestDatabase.url != nil, "needs PostgreSQL: run under scripts/with-postgres.sh (make test does)"))
struct WorkerClaimTests {
    static let now = Timestamp(secondsSince1970: 1_000)

    /// A campaign of `count` ready messages, lines 1…count.
    static func campaign(_ store: PostgresStore, count: Int) async throws {
        try await store.beginCampaign(id: "c1", template: "hi", at: now)
        let entries = (1...count).map { line in
            JournalEntry(
                id: "c1-\(line)", campaign: "c1", line: line, to: "+86139\(String(10_000_000 + line))",
                carrier: "china-mobile", gateway: "primary", text: "hi", segments: 1, throttleUnits: 1, cost: 0.05,
                sendAt: now, state: .ready)
        }
        _ = try await store.journal(campaign: "c1", messages: entries, skipped: [])
    }

    static func withStore(_ body: (PostgresStore) async throws -> Void) async throws {
        try await TestDatabase.withFresh { location in
            try await PostgresDatabase.with(location, logger: TestDatabase.logger) { try await body(PostgresStore($0)) }
        }
    }

    /// A worker whose clock runs behind the sender's (another host's, or its own start a second earlier, read in
    /// whole seconds) claims what the sender decided, and sees it unanswered: it never takes the campaign for done.
    @Test func aWorkerClaimsReadyMessagesWhateverItsClock() async throws {
        try await Self.withStore { store in
            try await Self.campaign(store, count: 3)
            let behind = Timestamp(secondsSince1970: Self.now.secondsSince1970 - 1)
            #expect(try await store.unansweredDue(campaign: "c1", dueBy: behind) == 3)
            let worker = try await store.register(campaign: "c1", lease: .seconds(60))
            let claimed = try await store.claiming(as: worker).unfinished(
                campaign: "c1", dueBy: behind, afterLine: 0, limit: 10)
            #expect(claimed.map(\.line) == [1, 2, 3])
        }
    }

    /// A worker's heartbeat tells the database what it has sent, and `workers` its rate between its last two.
    @Test func heartbeatsTellWhatAWorkerSentAndItsRate() async throws {
        try await Self.withStore { store in
            try await Self.campaign(store, count: 10)
            let worker = try await store.register(campaign: "c1", lease: .seconds(60))
            let claiming = store.claiming(as: worker)
            try await claiming.renew(worker, sent: claiming.messagesMarked)
            #expect(try await store.workers().map(\.sent) == [0])
            #expect(try await store.workers().first?.rate == 0)
            let claimed = try await claiming.unfinished(campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 6)
            try await claiming.markSubmitting(claimed.map { ($0.id, "primary") })
            #expect(claiming.messagesMarked == 6)
            try await Task.sleep(for: .milliseconds(200))
            try await claiming.renew(worker, sent: claiming.messagesMarked)
            let listed = try #require(try await store.workers().first)
            #expect(listed.sent == 6)
            // Six messages over at least the 200 ms slept between the heartbeats.
            #expect(try #require(listed.rate) > 0 && listed.rate! <= 30, "\(listed.rate!)")
            try await claiming.renew(worker)  // without a count: both stay
            #expect(try await store.workers().first?.sent == 6)
        }
    }

    @Test func liveWorkersClaimApartAndReleasedClaimsComeBack() async throws {
        try await Self.withStore { store in
            try await Self.campaign(store, count: 10)
            let (one, two) = (
                try await store.register(campaign: "c1", lease: .seconds(60)),
                try await store.register(campaign: "c1", lease: .seconds(60))
            )
            let first = try await store.claiming(as: one).unfinished(
                campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 4)
            let second = try await store.claiming(as: two).unfinished(
                campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 100)
            #expect(first.map(\.line) == [1, 2, 3, 4])
            #expect(second.map(\.line) == [5, 6, 7, 8, 9, 10])
            #expect(
                try await store.claiming(as: one).unfinished(campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 100)
                    .isEmpty)
            // Outside a worker, the journal reads as it is.
            #expect(try await store.unfinished(campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 100).count == 10)
            let listed = try await store.workers()
            #expect(listed.map(\.holding) == [4, 6] && listed.allSatisfy(\.live))
            try await store.release(two)
            #expect(try await store.workers().map(\.id) == [one.id])
            let back = try await store.claiming(as: one).unfinished(
                campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 100)
            #expect(back.map(\.line) == [5, 6, 7, 8, 9, 10])
        }
    }

    /// Marking claims: a worker marks what it holds or nobody holds, never another live worker's, nor an answered
    /// message.
    @Test func aWorkerMarksOnlyWhatNoOtherLiveWorkerHolds() async throws {
        try await Self.withStore { store in
            try await Self.campaign(store, count: 4)
            let (one, two) = (
                try await store.register(campaign: "c1", lease: .seconds(60)),
                try await store.register(campaign: "c1", lease: .seconds(60))
            )
            _ = try await store.claiming(as: two).unfinished(campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 1)
            try await store.record([
                SubmitRecord(
                    id: "c1-4", campaign: "c1", recipient: "+8613910000004", state: .accepted, gateway: "primary",
                    gatewayMessageID: "g-4", attempts: 1, latency: nil, error: nil, at: Self.now)
            ])
            let marked = try await store.claiming(as: one).markSubmitting(
                (1...4).map { ("c1-\($0)", "primary") })
            #expect(marked == .only(["c1-2", "c1-3"]))  // 1 is two's, 4 was answered
            #expect(try await store.workers().map(\.holding) == [2, 1])
            // Marked by one, which lives: two cannot have them.
            #expect(try await store.claiming(as: two).markSubmitting([("c1-2", "primary")]) == .only([]))
        }
    }

    /// Moves a worker's last heartbeat back past its lease, as if its heartbeats had stopped.
    static func lapse(_ worker: WorkerLease, in store: PostgresStore) async throws {
        try await store.database.execute(
            "UPDATE sparrow_worker SET seen_at = seen_at - lease - 1000000 WHERE id = \(worker.id)")
    }

    /// When it last renewed its lease, in microseconds on the database's clock.
    static func seen(_ worker: WorkerLease, in store: PostgresStore) async throws -> Int64 {
        try await store.database.connection { connection in
            try await connection.query(
                "SELECT seen_at FROM sparrow_worker WHERE id = \(worker.id)", logger: TestDatabase.logger
            ).collect()[0].decode(Int64.self)
        }
    }

    /// A worker whose heartbeats stop loses its lease: another takes over its messages, those it had marked found
    /// in flight; it cannot renew, and it sends nothing more.
    @Test func aLapsedWorkersMessagesAreTakenOver() async throws {
        try await Self.withStore { store in
            try await Self.campaign(store, count: 3)
            let lapsing = try await store.register(campaign: "c1", lease: .seconds(60))
            let live = try await store.register(campaign: "c1", lease: .seconds(60))
            let claimed = try await store.claiming(as: lapsing).unfinished(
                campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 10)
            #expect(claimed.count == 3)
            #expect(try await store.claiming(as: lapsing).markSubmitting([("c1-1", "primary")]) == .only(["c1-1"]))
            #expect(
                try await store.claiming(as: live).unfinished(campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 10)
                    .isEmpty)
            try await Self.lapse(lapsing, in: store)
            let takenOver = try await store.claiming(as: live).unfinished(
                campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 10)
            #expect(takenOver.map(\.line) == [1, 2, 3])
            #expect(takenOver.map(\.state) == [.submitting, .ready, .ready])
            await #expect(throws: LeaseLost.self) { try await store.renew(lapsing) }
            #expect(try await store.claiming(as: lapsing).markSubmitting([("c1-2", "primary")]) == .only([]))
            #expect(try await store.workers().map(\.live) == [false, true])
        }
    }

    /// A status query settles only what no other live worker holds: a message in a live worker's window may be
    /// about to go, and a gateway that does not know it yet would have it sent again.
    @Test func settlingLeavesALiveWorkersMessagesAlone() async throws {
        try await Self.withStore { store in
            try await Self.campaign(store, count: 2)
            let worker = try await store.register(campaign: "c1", lease: .seconds(60))
            #expect(
                try await store.claiming(as: worker).markSubmitting([("c1-1", "primary"), ("c1-2", "primary")])
                    == .only(["c1-1", "c1-2"]))
            func unsettled(_ store: PostgresStore) async throws -> [Int] {
                try await store.unsettled(
                    campaign: "c1", gateways: ["primary"], awaitingReceipts: false, afterLine: 0, limit: 10
                ).map(\.line)
            }
            #expect(try await unsettled(store).isEmpty)
            #expect(try await unsettled(store.claiming(as: worker)) == [1, 2])  // its own
            try await Self.lapse(worker, in: store)
            #expect(try await unsettled(store) == [1, 2])
        }
    }

    /// `asWorker` renews the lease every third of it on its clock while its body runs, hands back what the body left
    /// unanswered, and stops the body when the lease was lost.
    @Test(.timeLimit(.minutes(1))) func aWorkersHeartbeatKeepsItsLeaseAndALostOneStopsIt() async throws {
        try await Self.withStore { store in
            try await Self.campaign(store, count: 2)
            let clock = TestClock()
            try await store.asWorker(campaign: "c1", lease: .seconds(30), clock: clock) { claiming in
                _ = try await claiming.unfinished(campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 1)
                let worker = try #require(try await store.workers().first).id
                let lease = WorkerLease(id: worker, lease: .seconds(30))
                let before = try await Self.seen(lease, in: store)
                try await clock.sleepers(1)
                clock.advance(by: .seconds(10))
                while try await Self.seen(lease, in: store) == before { try await Task.sleep(for: .milliseconds(10)) }
                #expect(try await claiming.markSubmitting([("c1-1", "primary")]) == .only(["c1-1"]))
            }
            #expect(try await store.workers().isEmpty)
            #expect(
                try await store.unfinished(campaign: "c1", dueBy: Self.now, afterLine: 0, limit: 10).map(\.line) == [
                    1, 2,
                ])
            await #expect(throws: LeaseLost.self) {
                try await store.asWorker(campaign: "c1", lease: .seconds(30), clock: clock) { claiming in
                    let worker = try #require(try await store.workers().first).id
                    try await Self.lapse(WorkerLease(id: worker, lease: .seconds(30)), in: store)
                    try await clock.sleepers(1)
                    clock.advance(by: .seconds(10))
                    try await Task.sleep(for: .seconds(3600))  // until the lost lease stops it
                }
            }
            #expect(try await store.workers().isEmpty)  // released all the same
        }
    }
}
