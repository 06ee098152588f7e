import CSQLiteConfig
import Foundation
import GRDB
import SparrowCore

/// The embedded store: one SQLite file in WAL mode through GRDB, migrated on open. Every method is one
/// transaction over a batch, run on GRDB's own threads (never blocking the cooperative pool).
///
/// This file holds the schema and its migrations; the journal, the receipts, the report's figures and the
/// suppression list are in `SQLiteStore+Journal.swift`, `+Receipts`, `+Figures` and `+Suppression`.
public final class SQLiteStore: CampaignStore {
    /// Internal, not private: tests reach the writer connection to inject faults (a full disk).
    let pool: DatabasePool
    /// The store's file, named in its errors.
    package let path: String

    /// WAL pages the writer commits between two checkpoints (SQLite's default is 1,000). A checkpoint copies the last
    /// version of each page in the WAL to the file and syncs it; the journal rewrites the same pages (the messages
    /// being marked and answered, the indexes' newest leaves) in commit after commit, so a longer stretch copies and
    /// syncs less per message: 1.11× the rate of `send` over 200,000 messages, at a WAL of about 40 MiB.
    static let checkpointPages = 10_000

    /// SQLite stops counting its allocations before the process's first connection opens (see `CSQLiteConfig`).
    private static let memoryNotCounted: Void = { _ = sparrow_sqlite3_stop_counting_memory() }()

    /// Opens (creating it and its folder if needed) and migrates the store at `path`.
    /// - Throws: `StoreError` when the file cannot be opened or migrated.
    public init(path: String) throws {
        self.path = path
        _ = Self.memoryNotCounted
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try Self.openPool(path: path, configuration: configuration)
            // Set on the pool's one writer connection once it is open: GRDB turns WAL on after `prepareDatabase`
            // and sets `NORMAL` with it.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")  // a commit survives a power cut, not just a crash
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.checkpointPages)")
            }
            try Self.migrate(pool)
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        } catch {
            throw StoreError(code: .cannotOpen, path: path, message: "\(error)")
        }
    }

    /// Runs `updates` in a write transaction, on the writer connection. SQLite's errors come out as `StoreError`;
    /// a cancellation, or an error `updates` throws itself, as it is.
    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(updates)
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        }
    }

    /// Runs `value` on a reader connection, with the errors of `write`.
    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(value)
        } catch let error as DatabaseError {
            throw StoreError(error, path: path)
        }
    }

    /// Migrates the store, which other processes may be opening at the same moment (a `report` while a `send`
    /// starts). GRDB reads which migrations are applied, then runs each of the others in a transaction of its own:
    /// a process that another one overtook fails on a migration applied meanwhile, its transaction rolled back. It
    /// reads again and goes on from there; each round applies at least one migration, in one process or the other.
    /// Opens the pool, which turns WAL on. SQLite answers that `PRAGMA journal_mode` with "database is locked" at
    /// once, without waiting, while another process creates or migrates the file: it is tried again, for up to 10 s
    /// in all.
    private static func openPool(path: String, configuration: Configuration) throws -> DatabasePool {
        var waited = 0
        while true {
            do {
                return try DatabasePool(path: path, configuration: configuration)
            } catch let error as DatabaseError
                where error.resultCode.primaryResultCode == .SQLITE_BUSY && waited < 10_000
            {
                usleep(20_000)
                waited += 20
            }
        }
    }

    private static func migrate(_ pool: DatabasePool) throws {
        var rounds = 0
        while true {
            do {
                return try migrator.migrate(pool)
            } catch let error as DatabaseError {
                rounds += 1
                guard rounds <= migrator.migrations.count else { throw error }
                if try pool.read(migrator.hasCompletedMigrations) { return }
            }
        }
    }

    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "campaign") { table in
                table.primaryKey("id", .text)
                table.column("template", .text).notNull()
                table.column("createdAt", .integer).notNull()
            }
            try db.create(table: "message") { table in
                table.primaryKey("id", .text)
                table.column("campaignID", .text).notNull().references("campaign")
                table.column("line", .integer).notNull()
                table.column("recipient", .text).notNull()
                table.column("carrier", .text)
                table.column("gateway", .text).notNull()
                table.column("segments", .integer).notNull()
                table.column("cost", .double).notNull()
                table.column("sendAt", .integer).notNull()
                table.column("state", .text).notNull()
                table.column("rank", .integer).notNull()
                table.column("attempts", .integer).notNull().defaults(to: 0)
                table.column("gatewayMessageID", .text)
                table.column("latencyMicroseconds", .integer)
                table.column("error", .text)
                table.column("updatedAt", .integer)
            }
            try db.create(index: "message_campaign_state", on: "message", columns: ["campaignID", "state"])
            try db.create(index: "message_gateway_id", on: "message", columns: ["gateway", "gatewayMessageID"])
            try db.create(table: "receipt") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("gateway", .text).notNull()
                table.column("gatewayMessageID", .text).notNull()
                table.column("state", .text).notNull()
                table.column("receivedAt", .integer).notNull()
            }
            try db.create(table: "suppression", options: .withoutRowID) { table in
                table.primaryKey("number", .integer)  // E.164 digits as one integer
            }
            try db.create(table: "send") { table in
                table.column("number", .integer).notNull()
                table.column("sentAt", .integer).notNull()
            }
            try db.create(index: "send_number_time", on: "send", columns: ["number", "sentAt"])
        }
        migrator.registerMigration("v2: resumable without the input, skipped rows, per-campaign ledger") { db in
            try db.alter(table: "campaign") { table in table.add(column: "inputLines", .integer) }
            try db.alter(table: "message") { table in
                table.add(column: "text", .text).notNull().defaults(to: "")
                table.add(column: "throttleUnits", .integer).notNull().defaults(to: 1)
            }
            try db.alter(table: "send") { table in table.add(column: "campaignID", .text) }
            try db.create(table: "skipped", options: .withoutRowID) { table in
                table.column("campaignID", .text).notNull().references("campaign")
                table.column("line", .integer).notNull()
                table.column("status", .text).notNull()
                table.column("reason", .text)
                table.column("carrier", .text)
                table.column("gateway", .text)
                table.primaryKey(["campaignID", "line"])
            }
            try db.create(index: "message_campaign_line", on: "message", columns: ["campaignID", "line"])
        }
        migrator.registerMigration("v3: receipts per part") { db in
            try db.alter(table: "message") { table in table.add(column: "parts", .integer).notNull().defaults(to: 1) }
            try db.create(table: "part") { table in
                table.column("messageID", .text).notNull()
                table.column("gateway", .text).notNull()
                table.column("gatewayMessageID", .text).notNull()
                table.column("state", .text).notNull()
                table.column("rank", .integer).notNull()
                table.primaryKey(["messageID", "gatewayMessageID"])
            }
            try db.create(index: "part_gateway_id", on: "part", columns: ["gatewayMessageID", "gateway"])
        }
        migrator.registerMigration("v4: receipts found by the gateway's id alone") { db in
            try db.create(index: "message_gateway_message_id", on: "message", columns: ["gatewayMessageID"])
            try db.create(index: "receipt_gateway_message_id", on: "receipt", columns: ["gatewayMessageID"])
        }
        migrator.registerMigration("v5: quiet hours checked again at send time") { db in
            try db.alter(table: "message") { table in table.add(column: "timeZone", .text) }
        }
        migrator.registerMigration("v6: fewer indexes to keep up per message") { db in
            // Every state change rewrote (campaignID, state); only deferred messages are looked up by state.
            try db.drop(index: "message_campaign_state")
            try db.execute(
                sql: "CREATE INDEX message_deferred ON message (campaignID, sendAt) WHERE state = 'deferred'")
            // Receipts find messages by the gateway's id alone since v4.
            try db.drop(index: "message_gateway_id")
            // The ledger is read by time, never by number: appends instead of inserts at random places.
            try db.drop(index: "send_number_time")
            try db.create(index: "send_time", on: "send", columns: ["sentAt"])
        }
        migrator.registerMigration("v7: unknown messages sent again to gateways that honour keys") { db in
            try db.execute(sql: "CREATE INDEX message_unknown ON message (campaignID) WHERE state = 'unknown'")
        }
        migrator.registerMigration("v8: duplicates found by the journal, in bounded memory") { db in
            // A number is journaled once per campaign: a later row with it is the row's duplicate.
            try db.create(
                index: "message_campaign_recipient", on: "message", columns: ["campaignID", "recipient"], unique: true)
        }
        migrator.registerMigration("v9: the receipt log appended to; unmatched receipts kept apart") { db in
            // Only receipts that matched nothing yet are looked up by the gateway's id, when an answer is recorded:
            // the log itself needs no index with a random key.
            try db.create(table: "unmatched_receipt") { table in
                table.column("gateway", .text).notNull()
                table.column("gatewayMessageID", .text).notNull()
                table.column("state", .text).notNull()
                table.column("receivedAt", .integer).notNull()
            }
            try db.create(
                index: "unmatched_receipt_gateway_message_id", on: "unmatched_receipt", columns: ["gatewayMessageID"])
            try db.execute(
                sql: """
                    INSERT INTO unmatched_receipt (gateway, gatewayMessageID, state, receivedAt)
                    SELECT gateway, gatewayMessageID, state, receivedAt FROM receipt AS r
                    WHERE NOT EXISTS (
                        SELECT 1 FROM message WHERE gatewayMessageID = r.gatewayMessageID
                            AND (gateway = r.gateway OR r.gateway = ''))
                    AND NOT EXISTS (
                        SELECT 1 FROM part WHERE gatewayMessageID = r.gatewayMessageID
                            AND (gateway = r.gateway OR r.gateway = ''))
                    ORDER BY id
                    """)
            try db.drop(index: "receipt_gateway_message_id")
        }
        migrator.registerMigration("v10: a campaign's holdout") { db in
            try db.alter(table: "campaign") { table in
                table.add(column: "holdout", .double).notNull().defaults(to: 0)
            }
        }
        migrator.registerMigration("v11: approved templates and their parameters") { db in
            try db.alter(table: "campaign") { table in table.add(column: "approved", .text) }
            try db.alter(table: "message") { table in table.add(column: "parameters", .text) }
        }
        migrator.registerMigration("v12: a campaign's effect, measured against its holdout") { db in
            // A held-out number and when it would have gone: its window opens then, as a sent message's does.
            try db.alter(table: "skipped") { table in
                table.add(column: "recipient", .text)
                table.add(column: "sendAt", .integer)
            }
            try db.alter(table: "campaign") { table in
                table.add(column: "effectWindow", .integer)
                table.add(column: "effectMeasuredAt", .integer)
            }
            try db.create(table: "effect", options: .withoutRowID) { table in
                table.column("campaignID", .text).notNull().references("campaign")
                table.column("dimension", .text).notNull()
                table.column("key", .text).notNull()
                table.column("heldOut", .boolean).notNull()
                for count in ["recipients", "sent", "delivered", "responders", "buyers", "orders", "revenue"] {
                    table.column(count, .integer).notNull()
                }
                table.column("revenueSquares", .double).notNull()
                table.column("cost", .double).notNull()
                table.primaryKey(["campaignID", "dimension", "key", "heldOut"])
            }
            try db.create(table: "responder", options: .withoutRowID) { table in
                table.column("campaignID", .text).notNull().references("campaign")
                table.column("number", .integer).notNull()
                table.primaryKey(["campaignID", "number"])
            }
        }
        migrator.registerMigration("v13: tracked links and their clicks") { db in
            try db.alter(table: "campaign") { table in table.add(column: "linkTarget", .text) }
            // The store's own secrets, such as the key that tags link codes.
            try db.create(table: "secret", options: .withoutRowID) { table in
                table.column("name", .text).primaryKey()
                table.column("value", .blob).notNull()
            }
            try db.create(table: "click") { table in
                table.column("campaignID", .text).notNull().references("campaign")
                table.column("line", .integer).notNull()
                table.column("at", .integer).notNull()
            }
            try db.create(index: "click_campaign_line", on: "click", columns: ["campaignID", "line"])
            try db.alter(table: "effect") { table in table.add(column: "clickers", .integer).notNull().defaults(to: 0) }
        }
        migrator.registerMigration("v14: a campaign's ranking under a budget or a message limit") { db in
            try db.alter(table: "campaign") { table in
                table.add(column: "rankedBy", .text)
                // The lowest admitted message's value (±infinity allowed) and line; NULL when every message is.
                table.add(column: "cutValue", .double)
                table.add(column: "cutLine", .integer)
            }
        }
        migrator.registerMigration("v15: the most segments a campaign's message may take") { db in
            try db.alter(table: "campaign") { table in table.add(column: "maxSegments", .integer) }
        }
        migrator.registerMigration("v16: lifecycle flows: order events, orders, durable timers") { db in
            // A flow's service messages (shipping notices) are no marketing: the frequency cap does not count them.
            try db.alter(table: "campaign") { table in
                table.add(column: "transactional", .boolean).notNull().defaults(to: false)
            }
            // A flow sends a number one message per occasion (its timer), where a campaign sends it one in all.
            try db.alter(table: "message") { table in table.add(column: "occasion", .text).notNull().defaults(to: "")
            }
            try db.drop(index: "message_campaign_recipient")
            try db.create(
                index: "message_campaign_recipient", on: "message", columns: ["campaignID", "recipient", "occasion"],
                unique: true)
            try db.create(table: "flow_event", options: .withoutRowID) { table in
                table.column("source", .text).notNull()
                table.column("id", .text).notNull()
                table.column("orderID", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("at", .integer).notNull()
                table.primaryKey(["source", "id"])
            }
            try db.create(table: "flow_order", options: .withoutRowID) { table in
                table.column("source", .text).notNull()
                table.column("id", .text).notNull()
                table.column("fields", .text).notNull()
                table.column("seen", .integer).notNull()
                table.column("firstAt", .integer).notNull()
                table.column("phone", .text)
                table.column("amount", .double)
                table.column("closed", .boolean).notNull()
                table.primaryKey(["source", "id"])
            }
            try db.create(index: "flow_order_phone", on: "flow_order", columns: ["phone", "firstAt"])
            try db.create(table: "flow_timer") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("rule", .text).notNull()
                table.column("key", .text).notNull()
                table.column("step", .integer).notNull()
                table.column("source", .text).notNull()
                table.column("orderID", .text).notNull()
                table.column("trigger", .integer).notNull()
                table.column("dueAt", .integer).notNull()
                table.column("state", .text).notNull()
                table.column("reason", .text)
                table.column("messageID", .text)
                table.column("updatedAt", .integer).notNull()
                table.uniqueKey(["rule", "key", "step"])
            }
            try db.execute(sql: "CREATE INDEX flow_timer_pending ON flow_timer (dueAt) WHERE state = 'pending'")
            try db.create(index: "flow_timer_order", on: "flow_timer", columns: ["source", "orderID"])
        }
        migrator.registerMigration("v17: the birthday rules' daily passes") { db in
            try db.create(table: "flow_pass", options: .withoutRowID) { table in
                table.primaryKey("rule", .text)
                table.column("day", .integer).notNull()  // the last local day passed, as days since 1970
            }
        }
        migrator.registerMigration("v18: an order's latest event, for rules any later event cancels") { db in
            try db.alter(table: "flow_order") { table in table.add(column: "lastAt", .integer) }
        }
        return migrator
    }()

}

/// A resumed campaign's input is not the one it journaled: the row at `line` differs, or the input ends before it.
public struct InputMismatch: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int

    package init(line: Int) {
        self.line = line
    }
    public var description: String {
        "line \(line) is not the row this campaign journaled there: resume needs the campaign's own input, unchanged"
    }
}

/// A store that cannot be opened, read or written: a bounded code, the file, and SQLite's own words. Neither the
/// statement nor its bound values appear: no number or message text leaks through an error.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The file cannot be opened or created, or is not a database.
        case cannotOpen = "cannot-open"
        /// The disk (or the database's page limit) is full.
        case full
        /// The file or the connection is read-only.
        case readOnly = "read-only"
        /// Another process held the database past the wait.
        case busy
        case corrupt
        /// A read or write of the file failed.
        case io
        /// A constraint refused a row.
        case constraint
        case other
    }

    public var code: Code
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }

    public init(code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    init(_ error: DatabaseError, path: String) {
        let code: Code =
            switch error.resultCode.primaryResultCode {
            case .SQLITE_CANTOPEN, .SQLITE_NOTADB: .cannotOpen
            case .SQLITE_FULL: .full
            case .SQLITE_READONLY: .readOnly
            case .SQLITE_BUSY, .SQLITE_LOCKED: .busy
            case .SQLITE_CORRUPT: .corrupt
            case .SQLITE_IOERR: .io
            case .SQLITE_CONSTRAINT: .constraint
            default: .other
            }
        // A statement the store misused names itself: its text holds no values.
        let statement = code == .other ? error.sql.map { " (in: \($0))" } ?? "" : ""
        self.init(
            code: code, path: path,
            message: "SQLite error \(error.resultCode.rawValue): \(error.message ?? "\(error.resultCode)")\(statement)")
    }
}
