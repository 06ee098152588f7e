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

    @Test func anUnwritableFolderIsAClearError() {
        #expect(throws: StoreError.self) { try SQLiteStore(path: "/proc/sparrow/s.sqlite") }
    }

}
