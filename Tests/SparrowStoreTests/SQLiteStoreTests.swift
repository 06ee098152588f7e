import Foundation
import GRDB
import SparrowCore
import Synchronization
import Testing

@testable import SparrowStore

/// Every test opens a real SQLite file in a folder of its own.
func freshStore() throws -> (SQLiteStore, path: String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "sparrow-store-\(UUID().uuidString)/s.sqlite"
    ).path
    return (try SQLiteStore(path: path), path)
}

func entry(_ line: Int, state: MessageState = .ready) -> JournalEntry {
    JournalEntry(
        id: "c1-\(line)", campaign: "c1", line: line, to: "+86138001380\(String(line + 10).suffix(2))",
        carrier: "china-mobile",
        gateway: "primary", text: "hi \(line)", segments: 1, throttleUnits: 1, cost: 0.05,
        sendAt: Timestamp(secondsSince1970: 0), state: state)
}

/// The answer to the message of `entry(line)`.
func submit(_ line: Int, _ state: MessageState, id: String? = nil) -> SubmitRecord {
    let message = entry(line)
    return SubmitRecord(
        id: message.id, campaign: message.campaign, recipient: message.to, state: state, gateway: "primary",
        gatewayMessageID: id, attempts: 1, latency: .milliseconds(3), error: nil, at: Timestamp(secondsSince1970: 100))
}

/// The receipts kept as matching nothing yet, as `GATEWAY ID STATE`, oldest first.
func unmatchedReceipts(_ store: SQLiteStore) async throws -> [String] {
    try await store.pool.read { db in
        try String.fetchAll(
            db, sql: "SELECT gateway || ' ' || gatewayMessageID || ' ' || state FROM unmatched_receipt ORDER BY rowid")
    }
}

@Suite struct SQLiteStoreTests {
    /// SQLite's refusal comes out of the store as a `StoreError` with a bounded code and the file, and without the
    /// statement's values: no number and no message text.
    @Test func aRefusedWriteIsAStoreErrorWithoutItsValues() async throws {
        let (store, path) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        try await store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA query_only = 1") }
        await #expect {
            _ = try await store.journal(campaign: "c1", messages: [entry(1)], skipped: [])
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            let text = "\(error)"
            return error.code == .readOnly && error.path == path && text.contains("readonly")
                && !text.contains(entry(1).to) && !text.contains(entry(1).text)
        }
    }

    /// Processes may open a new store at the same moment (a `report` while a `send` starts): each ends with the
    /// whole schema, whichever of them applied each migration.
    @Test func storesOpenedAtOnceShareTheirMigrations() throws {
        for _ in 0..<10 {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "sparrow-store-\(UUID().uuidString)/s.sqlite"
            ).path
            let failures = Lock<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                do {
                    _ = try SQLiteStore(path: path)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            let store = try SQLiteStore(path: path)
            #expect(try store.pool.read(SQLiteStore.migrator.hasCompletedMigrations))
        }
    }

    @Test func journalIsIdempotentAndResumeFindsTheUnanswered() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        let first = try await store.journal(campaign: "c1", messages: (1...4).map { entry($0) }, skipped: [])
        #expect(first == [.ready, .ready, .ready, .ready])
        try await store.markSubmitting([("c1-1", "primary"), ("c1-2", "fallback")])  // c1-2 failed over
        try await store.record([submit(1, .accepted, id: "g-1")])
        // A resumed run journals the same rows again: each keeps its first record and reports where it stands.
        let again = try await store.journal(campaign: "c1", messages: (1...4).map { entry($0) }, skipped: [])
        #expect(again == [.accepted, .submitting, .ready, .ready])
        let unfinished = try await store.unfinished(
            campaign: "c1", dueBy: Timestamp(secondsSince1970: 0), afterLine: 0, limit: 10)
        #expect(unfinished.map(\.line) == [2, 3, 4])
        #expect(unfinished.map(\.state) == [.submitting, .ready, .ready])
        #expect(unfinished.map(\.text) == ["hi 2", "hi 3", "hi 4"])
        #expect(unfinished.map(\.gateway) == ["fallback", "primary", "primary"])  // where it may have gone
        let page = try await store.unfinished(
            campaign: "c1", dueBy: Timestamp(secondsSince1970: 0), afterLine: 2, limit: 1)
        #expect(page.map(\.line) == [3])
        let figures = try await store.figures(campaign: "c1")
        #expect(figures.total.targeted == 4 && figures.total.accepted == 1 && figures.total.pending == 4)
        #expect(figures.total.submitted == 2)
    }

    @Test func awaitingReceiptsCountsThePendingThatAreNotUnknown() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await store.journal(
            campaign: "c1", messages: [entry(1), entry(2, state: .deferred)] + (3...7).map { entry($0) }, skipped: [])
        try await store.markSubmitting([(entry(3).id, "primary")])
        try await store.record([
            submit(4, .accepted, id: "g-4"), submit(5, .unknown), submit(6, .failed), submit(7, .accepted, id: "g-7"),
        ])
        let at = Timestamp(secondsSince1970: 200)
        _ = try await store.apply([
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-7", state: .delivered, at: at)
        ])
        // Ready (1), submitting (3) and accepted (4); not deferred (2), unknown (5), failed (6) or delivered (7).
        #expect(try await store.awaitingReceipts(campaign: "c1") == 3)
        let total = try await store.figures(campaign: "c1").total
        #expect(total.pending - total.unknown == 3)  // what the wait for receipts counted before
        _ = try await store.apply([ReceiptRecord(gateway: "primary", gatewayMessageID: "g-4", state: .expired, at: at)])
        #expect(try await store.awaitingReceipts(campaign: "c1") == 2)
        #expect(try await store.awaitingReceipts(campaign: "c2") == 0)
    }

    @Test func receiptsOnlyMoveForwardAndDuplicatesAreHarmless() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await store.journal(campaign: "c1", messages: [entry(1), entry(2)], skipped: [])
        try await store.record([submit(1, .accepted, id: "g-1"), submit(2, .accepted, id: "g-2")])
        let at = Timestamp(secondsSince1970: 200)
        let moved = try await store.apply([
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-1", state: .delivered, at: at),
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-1", state: .delivered, at: at),  // duplicate
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-9", state: .delivered, at: at),  // unknown id
            ReceiptRecord(gateway: nil, gatewayMessageID: "g-2", state: .expired, at: at),  // matched by id alone
            ReceiptRecord(gateway: "primary", gatewayMessageID: "g-2", state: .accepted, at: at),  // late, intermediate
        ])
        #expect(moved == 2)
        #expect(try await unmatchedReceipts(store) == ["primary g-9 delivered"])  // the duplicate and the late matched
        // A late submit answer never overwrites a receipt.
        try await store.record([submit(1, .accepted, id: "g-1")])
        let figures = try await store.figures(campaign: "c1")
        #expect(figures.total.delivered == 1 && figures.total.failed == 1 && figures.total.pending == 0)
        #expect(figures.total.accepted == 2 && figures.total.deliveryRate == 0.5)
    }

    /// A receipt finds its message through the gateway id's index, not by reading every message of the store.
    @Test func aReceiptFindsItsMessageThroughTheGatewayIDIndex() async throws {
        let (store, _) = try freshStore()
        let plan = try await store.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    EXPLAIN QUERY PLAN UPDATE message SET state = 'delivered'
                    WHERE gatewayMessageID = ? AND (gateway = ? OR ? IS NULL) AND rank < 3 AND parts = 1
                    """,
                arguments: ["g-1", "primary", "primary"]
            ).map { $0["detail"] as String }.joined(separator: "\n")
        }
        #expect(plan.contains("USING INDEX message_gateway_message_id (gatewayMessageID=?)"), "\(plan)")
        let unmatchedPlan = try await store.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    EXPLAIN QUERY PLAN SELECT state FROM unmatched_receipt
                    WHERE gatewayMessageID = ? AND gateway IN (?, '')
                    """,
                arguments: ["g-1", "primary"]
            ).map { $0["detail"] as String }.joined(separator: "\n")
        }
        #expect(unmatchedPlan.contains("USING INDEX unmatched_receipt_gateway_message_id"), "\(unmatchedPlan)")
    }

    /// v9 keeps the receipts that matched nothing in a table of their own, and the log without its random index.
    @Test func theMigrationToV9KeepsOnlyUnmatchedReceiptsApart() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("sparrow-store-\(UUID().uuidString)/s.sqlite").path
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let old = try DatabasePool(path: path)
            try SQLiteStore.migrator.migrate(old, upTo: "v8: duplicates found by the journal, in bounded memory")
            try await old.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO campaign (id, template, createdAt) VALUES ('c1', 'hi', 0);
                        INSERT INTO message (id, campaignID, line, recipient, gateway, segments, cost, sendAt, state,
                            rank, gatewayMessageID)
                        VALUES ('c1-1', 'c1', 1, '+8613800138001', 'primary', 1, 0, 0, 'accepted', 2, 'g-1');
                        INSERT INTO part (messageID, gateway, gatewayMessageID, state, rank)
                        VALUES ('c1-1', 'primary', 'p-1', 'accepted', 2);
                        INSERT INTO receipt (gateway, gatewayMessageID, state, receivedAt) VALUES
                            ('primary', 'g-1', 'delivered', 1), ('', 'g-1', 'delivered', 2),
                            ('primary', 'p-1', 'delivered', 3), ('other', 'g-1', 'delivered', 4),
                            ('', 'g-9', 'expired', 5);
                        """)
            }
        }
        let store = try SQLiteStore(path: path)
        #expect(try await unmatchedReceipts(store) == ["other g-1 delivered", " g-9 expired"])
        let indexes = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'receipt'")
        }
        #expect(indexes.isEmpty)
        #expect(try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM receipt") } == 5)
    }

    /// Every commit of the writer is synced to disk (`FULL` is 2): a `submitting` mark must survive a power cut, or
    /// a message that went out would go again after the reboot. `NORMAL` would only survive a crash of the process.
    /// The writer checkpoints the WAL every `checkpointPages` pages, not SQLite's 1,000. A store that exists already
    /// is opened the same way.
    @Test func theWriterSyncsEveryCommitAndCheckpointsInLongStretches() async throws {
        let (store, path) = try freshStore()
        for store in [store, try SQLiteStore(path: path)] {
            let (synchronous, checkpoint) = try await store.pool.write { db in
                (
                    try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                    try Int.fetchOne(db, sql: "PRAGMA wal_autocheckpoint")
                )
            }
            #expect(synchronous == 2)
            #expect(checkpoint == SQLiteStore.checkpointPages)
        }
    }

    @Test func suppressionListAndSendLedgerSurviveReopening() async throws {
        let (store, path) = try freshStore()
        let numbers = ["13800138000", "19912345678", "+1 650 253 0000"].map {
            try! PhoneNumberParser.parse($0, defaultRegion: "CN").get().number
        }
        try await store.suppress((numbers + numbers).map(\.e164Value))
        try await store.unsuppress([numbers[1].e164Value])
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await store.journal(campaign: "c1", messages: [entry(1)], skipped: [])
        try await store.record([submit(1, .accepted, id: "g-1")])
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.suppressedNumbers() == [16_502_530_000, 8_613_800_138_000])
        let since = Timestamp(secondsSince1970: 50)
        #expect(try await reopened.cappedNumbers(since: since, excluding: nil, sends: 1) == [8_613_800_138_011])
        #expect(try await reopened.cappedNumbers(since: since, excluding: nil, sends: 2).isEmpty)
        // A campaign never caps itself.
        #expect(try await reopened.cappedNumbers(since: since, excluding: "c1", sends: 1).isEmpty)
        #expect(
            try await reopened.cappedNumbers(since: Timestamp(secondsSince1970: 101), excluding: nil, sends: 1).isEmpty)
        // A second campaign's send to the number: two within the window.
        var again = entry(1)
        (again.id, again.campaign) = ("c2-1", "c2")
        try await reopened.beginCampaign(id: "c2", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await reopened.journal(campaign: "c2", messages: [again], skipped: [])
        var answer = submit(1, .accepted, id: "g-2")
        (answer.id, answer.campaign) = ("c2-1", "c2")
        try await reopened.record([answer])
        #expect(try await reopened.cappedNumbers(since: since, excluding: nil, sends: 2) == [8_613_800_138_011])
        #expect(try await reopened.cappedNumbers(since: since, excluding: "c2", sends: 2).isEmpty)
    }

    @Test func theSuppressedAmongSomeNumbersAreFoundInOneRead() async throws {
        let (store, _) = try freshStore()
        try await store.suppress([8_613_800_138_000, 8_613_900_139_000])
        #expect(
            try await store.suppressed(among: [8_613_800_138_000, 8_613_800_138_001, 8_613_900_139_000])
                == [8_613_800_138_000, 8_613_900_139_000])
        #expect(try await store.suppressed(among: [1]).isEmpty)
        #expect(try await store.suppressed(among: []).isEmpty)
    }

    @Test func unknownMessagesOpenAgainOnlyOnTheGivenGatewaysAndLeaveTheLedgerUntilRecorded() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await store.journal(campaign: "c1", messages: (1...3).map { entry($0) }, skipped: [])
        var elsewhere = submit(3, .unknown)
        elsewhere.gateway = "other"
        try await store.record([submit(1, .unknown), submit(2, .accepted, id: "g-2"), elsewhere])
        let since = Timestamp(secondsSince1970: 50)
        #expect(try await store.cappedNumbers(since: since, excluding: nil, sends: 1).count == 3)

        #expect(try await store.reopenUnknown(campaign: "c1", gateways: ["primary"]) == ["c1-1"])
        let unfinished = try await store.unfinished(
            campaign: "c1", dueBy: Timestamp(secondsSince1970: 0), afterLine: 0, limit: 10)
        #expect(unfinished.map(\.id) == ["c1-1"] && unfinished.map(\.state) == [.submitting])
        // Withdrawn until answered.
        #expect(try await store.cappedNumbers(since: since, excluding: nil, sends: 1).count == 2)
        try await store.record([submit(1, .accepted, id: "g-1")])
        #expect(try await store.cappedNumbers(since: since, excluding: nil, sends: 1).count == 3)
        #expect(try await store.figures(campaign: "c1").total.unknown == 1)  // the other gateway's stays unknown
        #expect(try await store.reopenUnknown(campaign: "c1", gateways: ["primary"]).isEmpty)
    }

    @Test func aRowKeepsItsFirstDecisionAndCountsOnceInTheFunnel() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        let skipped = [
            SkippedRow(line: 2, status: .rejected, reason: "invalid-phone"),
            SkippedRow(line: 3, status: .suppressed, carrier: "china-mobile", gateway: "primary"),
        ]
        _ = try await store.journal(campaign: "c1", messages: [entry(1), entry(4, state: .deferred)], skipped: skipped)
        // Read again after the suppression list changed: line 1 is now suppressed, line 3 no longer is.
        let states = try await store.journal(
            campaign: "c1", messages: [entry(3), entry(4, state: .deferred)],
            skipped: [
                SkippedRow(line: 1, status: .suppressed),
                SkippedRow(line: 2, status: .rejected, reason: "invalid-phone"),
            ])
        #expect(states == [nil, .deferred])
        let figures = try await store.figures(campaign: "c1")
        var expected = Funnel()
        (expected.targeted, expected.rejected, expected.suppressed, expected.deferred, expected.pending) = (
            4, 1, 1, 1, 1
        )
        #expect(figures.total == expected)
        #expect(figures.byCarrier["china-mobile"]?.suppressed == 1)
        #expect(try await store.nextRelease(campaign: "c1") == Timestamp(secondsSince1970: 0))
        #expect(try await store.campaign(id: "c1")?.inputLines == nil)
        try await store.finishInput(campaign: "c1", lines: 4)
        #expect(try await store.campaign(id: "c1")?.inputLines == 4)
    }

    @Test func aNumberGetsOneMessagePerCampaignAndLaterRowsWithItAreDuplicates() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        func sameNumber(_ line: Int, as first: Int, campaign: String = "c1") -> JournalEntry {
            var message = entry(line)
            (message.id, message.campaign, message.to) = ("\(campaign)-\(line)", campaign, entry(first).to)
            return message
        }
        // Within a batch, and across batches (line 4 repeats line 1).
        #expect(
            try await store.journal(campaign: "c1", messages: [entry(1), sameNumber(2, as: 1), entry(3)], skipped: [])
                == [.ready, nil, .ready])
        #expect(try await store.journal(campaign: "c1", messages: [sameNumber(4, as: 1)], skipped: []) == [nil])
        // Read again (resume): every row keeps its first decision, and counts once.
        let again = try await store.journal(
            campaign: "c1", messages: [entry(1), sameNumber(2, as: 1), entry(3), sameNumber(4, as: 1)], skipped: [])
        #expect(again == [.ready, nil, .ready, nil])
        var expected = Funnel()
        (expected.targeted, expected.duplicate, expected.pending) = (4, 2, 2)
        #expect(try await store.figures(campaign: "c1").total == expected)
        #expect(try await store.figures(campaign: "c1").byCarrier["china-mobile"]?.duplicate == 2)
        // Another campaign may message the number.
        try await store.beginCampaign(id: "c2", template: "hi", at: Timestamp(secondsSince1970: 0))
        #expect(
            try await store.journal(campaign: "c2", messages: [sameNumber(1, as: 1, campaign: "c2")], skipped: []) == [
                .ready
            ])
    }

    @Test(arguments: [
        ([MessageState.delivered, .delivered, .delivered], MessageState.delivered),
        ([.delivered, .expired, .delivered], .expired),
        ([.expired, .undelivered, .delivered], .undelivered),
    ])
    func aMessageInPartsSettlesWhenEveryPartHasItsReceipt(_ parts: [MessageState], settled: MessageState) async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await store.journal(campaign: "c1", messages: [entry(1)], skipped: [])
        var record = submit(1, .accepted, id: "p-1")
        record.partIDs = ["p-1", "p-2", "p-3"]
        try await store.record([record])
        let at = Timestamp(secondsSince1970: 200)
        var moved = 0
        for (index, state) in parts.enumerated().reversed() {  // out of order
            #expect(try await store.figures(campaign: "c1").total.pending == 1)
            moved += try await store.apply([
                ReceiptRecord(gateway: nil, gatewayMessageID: "p-\(index + 1)", state: state, at: at)
            ])
        }
        #expect(moved == 1)  // the last part's receipt settles the message
        let total = try await store.figures(campaign: "c1").total
        #expect(total.pending == 0)
        #expect(settled == .delivered ? total.delivered == 1 : total.failed == 1)
        #expect(try await store.unfinished(campaign: "c1", dueBy: at, afterLine: 0, limit: 1).isEmpty)
        // A repeated part receipt changes nothing.
        #expect(
            try await store.apply([
                ReceiptRecord(gateway: "primary", gatewayMessageID: "p-2", state: .delivered, at: at)
            ]) == 0)
    }

    @Test func anotherInputIsRefusedAtTheFirstLineThatDiffers() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await store.journal(campaign: "c1", messages: [entry(1), entry(2)], skipped: [])
        var shifted = entry(2)
        shifted.id = "c1-2-other-number"
        await #expect(throws: InputMismatch(line: 2)) {
            _ = try await store.journal(campaign: "c1", messages: [entry(1), shifted], skipped: [])
        }
        // An input that ends before the rows journaled from it is not the same input either.
        await #expect(throws: InputMismatch(line: 2)) { try await store.finishInput(campaign: "c1", lines: 1) }
        try await store.finishInput(campaign: "c1", lines: 2)
    }

    @Test func aReceiptThatOvertakesItsSubmitIsAppliedWhenTheSubmitIsRecorded() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await store.journal(campaign: "c1", messages: [entry(1), entry(2)], skipped: [])
        let at = Timestamp(secondsSince1970: 150)
        let early = try await store.apply([
            ReceiptRecord(gateway: nil, gatewayMessageID: "g-1", state: .delivered, at: at),
            ReceiptRecord(gateway: "primary", gatewayMessageID: "p-2", state: .expired, at: at),
            ReceiptRecord(gateway: "other", gatewayMessageID: "p-1", state: .delivered, at: at),  // another gateway's
        ])
        #expect(early == 0)
        #expect(try await unmatchedReceipts(store).count == 3)
        var parts = submit(2, .accepted, id: "p-1")
        parts.partIDs = ["p-1", "p-2"]
        try await store.record([submit(1, .accepted, id: "g-1"), parts])
        var total = try await store.figures(campaign: "c1").total
        #expect(total.delivered == 1 && total.pending == 1)  // line 2's first part still awaits its receipt
        #expect(try await unmatchedReceipts(store) == ["other p-1 delivered"])  // applied ones are taken out
        _ = try await store.apply([
            ReceiptRecord(gateway: "primary", gatewayMessageID: "p-1", state: .delivered, at: at)
        ])
        total = try await store.figures(campaign: "c1").total
        #expect(total.delivered == 1 && total.failed == 1 && total.pending == 0)
    }

    /// Nearest rank: the ceil(p × n)-th smallest, so p50 of 7 is the 4th and p99 of 7 the 7th.
    @Test(arguments: [(100, 50, 99), (7, 4, 7), (1, 1, 1)])
    func latencyPercentilesAreNearestRank(count: Int, p50: Int, p99: Int) async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        _ = try await store.journal(campaign: "c1", messages: (1...count).map { entry($0) }, skipped: [])
        try await store.record(
            (1...count).reversed().map { line in
                var record = submit(line, .accepted, id: "g-\(line)")
                record.latency = .milliseconds(line)
                return record
            })
        let figures = try await store.figures(campaign: "c1")
        #expect(figures.total.latencyP50 == .milliseconds(p50))
        #expect(figures.total.latencyP99 == .milliseconds(p99))
        #expect(figures.byGateway["primary"]?.latencyP99 == .milliseconds(p99))
    }

    @Test func latencyPercentilesOfEverySliceCountEqualLatenciesOneByOne() async throws {
        let (store, _) = try freshStore()
        try await store.beginCampaign(id: "c1", template: "hi", at: Timestamp(secondsSince1970: 0))
        // Lines 1–6 on china-mobile, all at 5 ms; lines 7–10 on china-unicom at 1, 2, 3 and 40 ms.
        let latencies = [5, 5, 5, 5, 5, 5, 1, 2, 3, 40]
        _ = try await store.journal(
            campaign: "c1",
            messages: (1...10).map { line in
                var message = entry(line)
                message.carrier = line <= 6 ? "china-mobile" : "china-unicom"
                return message
            }, skipped: [])
        try await store.record(
            (1...10).map { line in
                var record = submit(line, .accepted, id: "g-\(line)")
                record.latency = .milliseconds(latencies[line - 1])
                return record
            })
        let figures = try await store.figures(campaign: "c1")
        #expect(figures.total.latencyP50 == .milliseconds(5) && figures.total.latencyP99 == .milliseconds(40))
        let mobile = figures.byCarrier["china-mobile"], unicom = figures.byCarrier["china-unicom"]
        #expect(mobile?.latencyP50 == .milliseconds(5) && mobile?.latencyP99 == .milliseconds(5))
        #expect(unicom?.latencyP50 == .milliseconds(2) && unicom?.latencyP99 == .milliseconds(40))
        #expect(figures.byGateway["primary"]?.latencyP50 == .milliseconds(5))
    }

    @Test func anUnwritableFolderIsAClearError() {
        #expect(throws: StoreError.self) { try SQLiteStore(path: "/proc/sparrow/s.sqlite") }
    }
}
