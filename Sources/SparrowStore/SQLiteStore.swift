import Foundation
import GRDB
public import SparrowCore

/// The embedded store: one SQLite file in WAL mode through GRDB, migrated on open. Every method is one
/// transaction over a batch, run on GRDB's own threads (never blocking the cooperative pool).
public final class SQLiteStore: CampaignStore {
    private let pool: DatabasePool

    /// Opens (creating it and its folder if needed) and migrates the store at `path`.
    /// - Throws: `StoreError` when the file cannot be opened or migrated.
    public init(path: String) throws {
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)  // WAL
            try Self.migrator.migrate(pool)
        } catch {
            throw StoreError(path: path, message: "\(error)")
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
        return migrator
    }()

    public func beginCampaign(id: String, template: String, at: Timestamp) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO campaign (id, template, createdAt) VALUES (?, ?, ?)",
                arguments: [id, template, at.secondsSince1970])
        }
    }

    public func journal(_ entries: [JournalEntry]) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO message
                        (id, campaignID, line, recipient, carrier, gateway, segments, cost, sendAt, state, rank)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for entry in entries {
                try statement.execute(arguments: [
                    entry.id, entry.campaign, entry.line, entry.to, entry.carrier, entry.gateway, entry.segments,
                    entry.cost, entry.sendAt.secondsSince1970, entry.state.rawValue, entry.state.rank,
                ])
            }
        }
    }

    public func markSubmitting(_ ids: [String]) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: "UPDATE message SET state = 'submitting', rank = 1 WHERE id = ? AND rank < 1")
            for id in ids { try statement.execute(arguments: [id]) }
        }
    }

    public func record(_ submits: [SubmitRecord]) async throws {
        try await pool.write { db in
            let update = try db.cachedStatement(
                sql: """
                    UPDATE message SET state = ?, rank = ?, gateway = ?, gatewayMessageID = ?, attempts = ?,
                        latencyMicroseconds = ?, error = ?, updatedAt = ?
                    WHERE id = ? AND rank < ?
                    """)
            let send = try db.cachedStatement(
                sql: "INSERT INTO send (number, sentAt) SELECT ?, ? FROM message WHERE id = ? AND state = 'accepted'")
            for submit in submits {
                try update.execute(arguments: [
                    submit.state.rawValue, submit.state.rank, submit.gateway, submit.gatewayMessageID, submit.attempts,
                    submit.latency / .microseconds(1), submit.error, submit.at.secondsSince1970, submit.id,
                    submit.state.rank,
                ])
                if db.changesCount > 0, submit.state == .accepted,
                    let recipient = try String.fetchOne(db, sql: "SELECT recipient FROM message WHERE id = ?", arguments: [submit.id])
                {
                    try send.execute(arguments: [Int64(PhoneNumber.value(ofE164: recipient)), submit.at.secondsSince1970, submit.id])
                }
            }
        }
    }

    public func unfinished(campaign: String) async throws -> [JournalEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, campaignID, line, recipient, carrier, gateway, segments, cost, sendAt, state
                    FROM message WHERE campaignID = ? AND rank < 2 ORDER BY line
                    """,
                arguments: [campaign]
            ).map { row in
                JournalEntry(
                    id: row["id"], campaign: row["campaignID"], line: row["line"], to: row["recipient"],
                    carrier: row["carrier"], gateway: row["gateway"], segments: row["segments"], cost: row["cost"],
                    sendAt: Timestamp(secondsSince1970: row["sendAt"]),
                    state: MessageState(rawValue: row["state"]) ?? .ready)
            }
        }
    }

    public func apply(_ receipts: [ReceiptRecord]) async throws -> Int {
        try await pool.write { db in
            let log = try db.cachedStatement(
                sql: "INSERT INTO receipt (gateway, gatewayMessageID, state, receivedAt) VALUES (?, ?, ?, ?)")
            let update = try db.cachedStatement(
                sql: """
                    UPDATE message SET state = ?, rank = ?, updatedAt = ?
                    WHERE gateway = ? AND gatewayMessageID = ? AND rank < ?
                    """)
            var moved = 0
            for receipt in receipts {
                try log.execute(arguments: [
                    receipt.gateway, receipt.gatewayMessageID, receipt.state.rawValue, receipt.at.secondsSince1970,
                ])
                try update.execute(arguments: [
                    receipt.state.rawValue, receipt.state.rank, receipt.at.secondsSince1970, receipt.gateway,
                    receipt.gatewayMessageID, receipt.state.rank,
                ])
                moved += db.changesCount
            }
            return moved
        }
    }

    public func funnel(campaign: String) async throws -> [MessageState: Int] {
        try await pool.read { db in
            var counts: [MessageState: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT state, COUNT(*) AS count FROM message WHERE campaignID = ? GROUP BY state",
                arguments: [campaign])
            {
                if let state = MessageState(rawValue: row["state"]) { counts[state] = row["count"] }
            }
            return counts
        }
    }

    public func suppress(_ numbers: [PhoneNumber]) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO suppression (number) VALUES (?)")
            for number in numbers { try statement.execute(arguments: [Int64(number.e164Value)]) }
        }
    }

    public func unsuppress(_ numbers: [PhoneNumber]) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM suppression WHERE number = ?")
            for number in numbers { try statement.execute(arguments: [Int64(number.e164Value)]) }
        }
    }

    public func suppressedNumbers() async throws -> [UInt64] {
        try await pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT number FROM suppression ORDER BY number").map { UInt64($0) }
        }
    }

    public func sendCounts(since: Timestamp) async throws -> [UInt64: Int] {
        try await pool.read { db in
            var counts: [UInt64: Int] = [:]
            let rows = try Row.fetchCursor(
                db, sql: "SELECT number, COUNT(*) AS count FROM send WHERE sentAt >= ? GROUP BY number",
                arguments: [since.secondsSince1970])
            while let row = try rows.next() {
                counts[UInt64(row["number"] as Int64)] = row["count"]
            }
            return counts
        }
    }
}

/// A store that cannot be opened or written, with its file; bound values never appear in the message.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}
