import Foundation
import GRDB
public import SparrowCore

/// The embedded store: one SQLite file in WAL mode through GRDB, migrated on open. Every method is one
/// transaction over a batch, run on GRDB's own threads (never blocking the cooperative pool).
public final class SQLiteStore: CampaignStore {
    /// Internal, not private: tests reach the writer connection to inject faults (a full disk).
    let pool: DatabasePool

    /// WAL pages the writer commits between two checkpoints (SQLite's default is 1,000). A checkpoint copies the last
    /// version of each page in the WAL to the file and syncs it; the journal rewrites the same pages (the messages
    /// being marked and answered, the indexes' newest leaves) in commit after commit, so a longer stretch copies and
    /// syncs less per message: 1.11× the rate of `send` over 200,000 messages, at a WAL of about 40 MiB.
    static let checkpointPages = 10_000

    /// Opens (creating it and its folder if needed) and migrates the store at `path`.
    /// - Throws: `StoreError` when the file cannot be opened or migrated.
    public init(path: String) throws {
        do {
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)  // WAL
            // Set on the pool's one writer connection once it is open: GRDB turns WAL on after `prepareDatabase`
            // and sets `NORMAL` with it.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")  // a commit survives a power cut, not just a crash
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.checkpointPages)")
            }
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
        return migrator
    }()

    public func beginCampaign(id: String, template: String, at: Timestamp) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO campaign (id, template, createdAt) VALUES (?, ?, ?)",
                arguments: [id, template, at.secondsSince1970])
        }
    }

    public func campaign(id: String) async throws -> CampaignRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT template, inputLines FROM campaign WHERE id = ?", arguments: [id]).map {
                CampaignRecord(id: id, template: $0["template"], inputLines: $0["inputLines"])
            }
        }
    }

    public func finishInput(campaign: String, lines: Int) async throws {
        try await pool.write { db in
            guard try Self.lastJournaledLine(campaign: campaign, db) <= lines else {
                throw InputMismatch(line: lines + 1)
            }
            try db.execute(sql: "UPDATE campaign SET inputLines = ? WHERE id = ?", arguments: [lines, campaign])
        }
    }

    /// The last input line with a decision in the journal, message or skipped row; 0 when there is none.
    private static func lastJournaledLine(campaign: String, _ db: Database) throws -> Int {
        try Int.fetchOne(
            db,
            sql: """
                SELECT MAX(line) FROM (SELECT MAX(line) AS line FROM message WHERE campaignID = ?
                    UNION ALL SELECT MAX(line) FROM skipped WHERE campaignID = ?)
                """, arguments: [campaign, campaign]) ?? 0
    }

    public func journal(campaign: String, messages: [JournalEntry], skipped: [SkippedRow]) async throws
        -> [MessageState?]
    {
        try await pool.write { db in
            let columns = """
                INSERT OR IGNORE INTO message (id, campaignID, line, recipient, carrier, gateway, text, segments,
                    throttleUnits, cost, sendAt, state, rank, timeZone)
                """
            // Lines past everything journaled (a first run reads nothing but these) cannot have a decision yet.
            let journaled = try Self.lastJournaledLine(campaign: campaign, db)
            let fresh = try HotStatement(db, sql: columns + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            let again = try db.cachedStatement(
                sql: columns + """
                     SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
                    WHERE NOT EXISTS (SELECT 1 FROM skipped WHERE campaignID = ? AND line = ?)
                    AND NOT EXISTS (SELECT 1 FROM message WHERE campaignID = ? AND line = ?)
                    """)
            let current = try db.cachedStatement(sql: "SELECT id, state FROM message WHERE campaignID = ? AND line = ?")
            var states: [MessageState?] = []
            states.reserveCapacity(messages.count)
            var skipped = skipped
            for entry in messages {
                let inserted: Bool
                if entry.line > journaled {
                    inserted =
                        try fresh.execute { values in
                            values.bind(entry.id)
                            values.bind(entry.campaign)
                            values.bind(entry.line)
                            values.bind(entry.to)
                            values.bind(entry.carrier)
                            values.bind(entry.gateway)
                            values.bind(entry.text)
                            values.bind(entry.segments)
                            values.bind(entry.throttleUnits)
                            values.bind(entry.cost)
                            values.bind(entry.sendAt.secondsSince1970)
                            values.bind(entry.state.rawValue)
                            values.bind(entry.state.rank)
                            values.bind(entry.timeZone)
                        } > 0
                } else {
                    try again.execute(arguments: [
                        entry.id, entry.campaign, entry.line, entry.to, entry.carrier, entry.gateway, entry.text,
                        entry.segments, entry.throttleUnits, entry.cost, entry.sendAt.secondsSince1970,
                        entry.state.rawValue, entry.state.rank, entry.timeZone, entry.campaign, entry.line,
                        entry.campaign,
                        entry.line,
                    ])
                    inserted = db.changesCount > 0
                }
                if inserted {
                    states.append(entry.state)
                } else if entry.line > journaled {
                    states.append(nil)  // the unique (campaign, recipient) index: the number has a message already
                    skipped.append(entry.duplicate)
                } else if let row = try Row.fetchOne(current, arguments: [entry.campaign, entry.line]) {
                    guard row["id"] as String == entry.id else { throw InputMismatch(line: entry.line) }
                    states.append(MessageState(rawValue: row["state"]))
                } else {
                    states.append(nil)  // first decided as skipped, or a duplicate (its skipped row is kept once)
                    skipped.append(entry.duplicate)
                }
            }
            let skip = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO skipped (campaignID, line, status, reason, carrier, gateway)
                    SELECT ?, ?, ?, ?, ?, ?
                    WHERE NOT EXISTS (SELECT 1 FROM message WHERE campaignID = ? AND line = ?)
                    """)
            for row in skipped {
                try skip.execute(arguments: [
                    campaign, row.line, row.status.rawValue, row.reason, row.carrier, row.gateway, campaign, row.line,
                ])
            }
            return states
        }
    }

    public func postpone(_ messages: [(id: String, sendAt: Timestamp)]) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: "UPDATE message SET state = 'deferred', sendAt = ? WHERE id = ? AND rank = 0")
            for message in messages { try statement.execute(arguments: [message.sendAt.secondsSince1970, message.id]) }
        }
    }

    public func markSubmitting(_ messages: [(id: String, gateway: String)]) async throws {
        try await pool.write { db in
            let statement = try HotStatement(
                db, sql: "UPDATE message SET state = 'submitting', rank = 1, gateway = ? WHERE id = ? AND rank < 1")
            for message in messages {
                try statement.execute { values in
                    values.bind(message.gateway)
                    values.bind(message.id)
                }
            }
        }
    }

    public func record(_ submits: [SubmitRecord]) async throws {
        try await pool.write { db in
            // No `RETURNING`: SQLite gathers returned rows in a table of their own, which cost more than the rest of
            // the update. The record names the message's number and campaign itself.
            let update = try HotStatement(
                db,
                sql: """
                    UPDATE message SET state = ?, rank = ?, gateway = ?, gatewayMessageID = ?, attempts = ?,
                        latencyMicroseconds = ?, error = ?, updatedAt = ?, parts = ?
                    WHERE id = ? AND rank < ?
                    """)
            let part = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO part (messageID, gateway, gatewayMessageID, state, rank)
                    VALUES (?, ?, ?, 'accepted', 2)
                    """)
            let send = try HotStatement(db, sql: "INSERT INTO send (number, sentAt, campaignID) VALUES (?, ?, ?)")
            let matcher = try ReceiptMatcher(db)
            for submit in submits {
                let moved = try update.execute { values in
                    values.bind(submit.state.rawValue)
                    values.bind(submit.state.rank)
                    values.bind(submit.gateway)
                    values.bind(submit.gatewayMessageID)
                    values.bind(submit.attempts)
                    values.bind(submit.latency.map { Int64($0 / .microseconds(1)) })
                    values.bind(submit.error)
                    values.bind(submit.at.secondsSince1970)
                    values.bind(max(1, submit.partIDs.count))
                    values.bind(submit.id)
                    values.bind(submit.state.rank)
                }
                guard moved > 0 else { continue }  // only a message that moved forward is recorded
                for id in submit.partIDs { try part.execute(arguments: [submit.id, submit.gateway, id]) }
                // A receipt may overtake the recording of its submit's answer.
                let ids = submit.partIDs.isEmpty ? (submit.gatewayMessageID.map { [$0] } ?? []) : submit.partIDs
                for id in ids {
                    try matcher.applyUnmatched(gateway: submit.gateway, gatewayMessageID: id, db)
                }
                // Sent, or possibly sent: either way it counts against the frequency cap.
                if submit.state == .accepted || submit.state == .unknown {
                    try send.execute { values in
                        values.bind(Int64(PhoneNumber.value(ofE164: submit.recipient)))
                        values.bind(submit.at.secondsSince1970)
                        values.bind(submit.campaign)
                    }
                }
            }
        }
    }

    public func reopenUnknown(campaign: String, gateways: Set<String>) async throws -> Set<String> {
        guard !gateways.isEmpty else { return [] }
        return try await pool.write { db in
            let unknown = try Row.fetchAll(
                db,
                sql: "SELECT id, recipient, gateway, updatedAt FROM message WHERE campaignID = ? AND state = 'unknown'",
                arguments: [campaign])
            // The ledger row its answer added: same number, campaign and time (found through the time index).
            let withdraw = try db.cachedStatement(
                sql: """
                    DELETE FROM send WHERE rowid = (
                        SELECT rowid FROM send WHERE sentAt = ? AND number = ? AND campaignID = ? LIMIT 1)
                    """)
            let reopen = try db.cachedStatement(
                sql: "UPDATE message SET state = 'submitting', rank = 1 WHERE id = ? AND state = 'unknown'")
            var reopened: Set<String> = []
            for row in unknown where gateways.contains(row["gateway"]) {
                let id: String = row["id"]
                try withdraw.execute(arguments: [
                    row["updatedAt"] as Int64?, Int64(PhoneNumber.value(ofE164: row["recipient"])), campaign,
                ])
                try reopen.execute(arguments: [id])
                reopened.insert(id)
            }
            return reopened
        }
    }

    public func unfinished(
        campaign: String, dueBy: Timestamp, afterLine line: Int, limit: Int
    ) async throws -> [JournalEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, line, recipient, carrier, gateway, text, segments, throttleUnits, cost, sendAt, state,
                        timeZone
                    FROM message WHERE campaignID = ? AND rank < 2 AND sendAt <= ? AND line > ?
                    ORDER BY line LIMIT ?
                    """,
                arguments: [campaign, dueBy.secondsSince1970, line, limit]
            ).map { row in
                JournalEntry(
                    id: row["id"], campaign: campaign, line: row["line"], to: row["recipient"], carrier: row["carrier"],
                    gateway: row["gateway"], text: row["text"], segments: row["segments"],
                    throttleUnits: row["throttleUnits"], cost: row["cost"],
                    sendAt: Timestamp(secondsSince1970: row["sendAt"]),
                    state: MessageState(rawValue: row["state"]) ?? .ready, timeZone: row["timeZone"])
            }
        }
    }

    public func nextRelease(campaign: String) async throws -> Timestamp? {
        try await pool.read { db in
            try Int64.fetchOne(
                db, sql: "SELECT MIN(sendAt) FROM message WHERE campaignID = ? AND state = 'deferred'",
                arguments: [campaign]
            ).map { Timestamp(secondsSince1970: $0) }
        }
    }

    /// Logs every receipt, and keeps those that match no message or part yet apart, for `record` to apply when
    /// their submit's answer comes.
    public func apply(_ receipts: [ReceiptRecord]) async throws -> Int {
        try await pool.write { db in
            let log = try HotStatement(
                db, sql: "INSERT INTO receipt (gateway, gatewayMessageID, state, receivedAt) VALUES (?, ?, ?, ?)")
            let unmatched = try HotStatement(
                db,
                sql: """
                    INSERT INTO unmatched_receipt (gateway, gatewayMessageID, state, receivedAt) VALUES (?, ?, ?, ?)
                    """)
            let matcher = try ReceiptMatcher(db)
            var moved = 0
            for receipt in receipts {
                let bind = { (values: inout HotStatement.Bindings) in
                    values.bind(receipt.gateway ?? "")
                    values.bind(receipt.gatewayMessageID)
                    values.bind(receipt.state.rawValue)
                    values.bind(receipt.at.secondsSince1970)
                }
                try log.execute(bind)
                let movedNow = try matcher.apply(receipt, db)
                moved += movedNow
                if movedNow == 0, try !matcher.matches(receipt) { try unmatched.execute(bind) }
            }
            return moved
        }
    }

    /// Moves messages, and the parts of messages sent in parts, forward by receipts.
    private struct ReceiptMatcher {
        /// Both bind a receipt's state (?1), rank (?2), time (?3, which parts do not keep), gateway message id (?4)
        /// and gateway (?5; NULL matches any gateway).
        let message: HotStatement
        let part: HotStatement
        let partStates: Statement
        let settle: Statement
        let exists: HotStatement
        /// Both bind a gateway message id and a gateway.
        let unmatched: HotStatement
        let forgetUnmatched: HotStatement

        init(_ db: Database) throws {
            message = try HotStatement(
                db,
                sql: """
                    UPDATE message SET state = ?1, rank = ?2, updatedAt = ?3
                    WHERE gatewayMessageID = ?4 AND (gateway = ?5 OR ?5 IS NULL) AND rank < ?2 AND parts = 1
                    """)
            part = try HotStatement(
                db,
                sql: """
                    UPDATE part SET state = ?1, rank = ?2
                    WHERE gatewayMessageID = ?4 AND (gateway = ?5 OR ?5 IS NULL) AND rank < ?2
                    RETURNING messageID
                    """)
            partStates = try db.cachedStatement(sql: "SELECT state FROM part WHERE messageID = ?")
            settle = try db.cachedStatement(
                sql: "UPDATE message SET state = ?, rank = 3, updatedAt = ? WHERE id = ? AND rank < 3")
            exists = try HotStatement(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM message WHERE gatewayMessageID = ?1 AND (gateway = ?2 OR ?2 IS NULL))
                        OR EXISTS (SELECT 1 FROM part WHERE gatewayMessageID = ?1 AND (gateway = ?2 OR ?2 IS NULL))
                    """)
            // A SELECT, and a DELETE only when it found something: RETURNING would allocate for every answer.
            unmatched = try HotStatement(
                db,
                sql: "SELECT state, receivedAt FROM unmatched_receipt WHERE gatewayMessageID = ? AND gateway IN (?, '')"
            )
            forgetUnmatched = try HotStatement(
                db, sql: "DELETE FROM unmatched_receipt WHERE gatewayMessageID = ? AND gateway IN (?, '')")
        }

        /// - Returns: how many messages `receipt` moved forward.
        func apply(_ receipt: ReceiptRecord, _ db: Database) throws -> Int {
            let bind = { (values: inout HotStatement.Bindings) in
                values.bind(receipt.state.rawValue)
                values.bind(receipt.state.rank)
                values.bind(receipt.at.secondsSince1970)
                values.bind(receipt.gatewayMessageID)
                values.bind(receipt.gateway)
            }
            var moved = try message.execute(bind)
            var messages: Set<String> = []
            try part.rows(bind) { row in
                if let id = row.string(0) { messages.insert(id) }
            }
            for id in messages {
                let states = try String.fetchAll(partStates, arguments: [id]).compactMap(MessageState.init(rawValue:))
                guard let settled = SQLiteStore.settled(parts: states) else { continue }
                try settle.execute(arguments: [settled.rawValue, receipt.at.secondsSince1970, id])
                moved += db.changesCount
            }
            return moved
        }

        /// Whether `receipt` names a message or a part the store knows, whether or not it moved it.
        func matches(_ receipt: ReceiptRecord) throws -> Bool {
            var found = false
            try exists.rows { values in
                values.bind(receipt.gatewayMessageID)
                values.bind(receipt.gateway)
            } _: { row in
                found = row.int64(0) != 0
            }
            return found
        }

        /// Applies, and takes out of the unmatched ones, the receipts that arrived for `gatewayMessageID` before its
        /// submit's answer was recorded.
        func applyUnmatched(gateway: String, gatewayMessageID: String, _ db: Database) throws {
            var receipts: [ReceiptRecord] = []
            let bind = { (values: inout HotStatement.Bindings) in
                values.bind(gatewayMessageID)
                values.bind(gateway)
            }
            try unmatched.rows(bind) { row in
                guard let state = row.string(0).flatMap(MessageState.init(rawValue:)) else { return }
                receipts.append(
                    ReceiptRecord(
                        gateway: gateway, gatewayMessageID: gatewayMessageID, state: state,
                        at: Timestamp(secondsSince1970: row.int64(1))))
            }
            guard !receipts.isEmpty else { return }
            try forgetUnmatched.execute(bind)
            for receipt in receipts { _ = try apply(receipt, db) }
        }
    }

    /// A message's final state from its parts' states, once every part has a final one.
    static func settled(parts: [MessageState]) -> MessageState? {
        guard parts.allSatisfy({ $0.rank == 3 }) else { return nil }
        if parts.contains(.undelivered) { return .undelivered }
        if parts.contains(.expired) { return .expired }
        return .delivered
    }

    public func figures(campaign: String) async throws -> CampaignFigures {
        try await pool.read { db in
            var figures = CampaignFigures()
            func add(carrier: String?, gateway: String?, _ change: (inout Funnel) -> Void) {
                for slice in CampaignFigures.Slice.of(carrier: carrier, gateway: gateway) { change(&figures[slice]) }
            }
            var latencies: [CampaignFigures.Slice: LatencyHistogram] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT carrier, gateway, status, COUNT(*) AS count FROM skipped WHERE campaignID = ?
                    GROUP BY carrier, gateway, status
                    """, arguments: [campaign])
            {
                let count: Int = row["count"]
                add(carrier: row["carrier"], gateway: row["gateway"]) { funnel in
                    funnel.targeted += count
                    switch PlanStatus(rawValue: row["status"]) {
                    case .duplicate: funnel.duplicate += count
                    case .suppressed: funnel.suppressed += count
                    case .capped: funnel.capped += count
                    default: funnel.rejected += count
                    }
                }
            }
            for (group, totals) in try Self.messageGroups(db, campaign: campaign) {
                for slice in CampaignFigures.Slice.of(carrier: group.carrier, gateway: group.gateway) {
                    latencies[slice, default: LatencyHistogram()].merge(totals.latencies)
                }
                let state = MessageState(rawValue: group.state) ?? .ready
                add(carrier: group.carrier, gateway: group.gateway) { funnel in
                    funnel.targeted += totals.count
                    if group.sent || state == .submitting || state == .unknown { funnel.submitted += totals.count }
                    switch state {
                    case .deferred: funnel.deferred += totals.count
                    case .ready, .submitting, .accepted: funnel.pending += totals.count
                    case .unknown:
                        funnel.pending += totals.count
                        funnel.unknown += totals.count
                    case .failed: funnel.failed += totals.count
                    case .delivered: funnel.delivered += totals.count
                    case .undelivered, .expired: funnel.failed += totals.count
                    }
                    if state == .accepted || state.rank == 3 {
                        funnel.accepted += totals.count
                        funnel.segments += totals.segments
                        funnel.cost += totals.cost
                    }
                }
            }
            try Self.addLatencies(to: &figures, latencies, db, campaign: campaign)
            return figures
        }
    }

    /// Messages that count alike in a campaign's funnel.
    private struct MessageGroup: Hashable {
        var carrier: String?
        var gateway: String?
        var state: String
        /// Handed to a gateway at least once.
        var sent: Bool
    }

    private struct MessageTotals {
        var count = 0
        var segments = 0
        var cost = 0.0
        /// The submit latencies of those that have one.
        var latencies = LatencyHistogram()

        mutating func add(segments: Int, cost: Double, latency: Int64?) {
            count += 1
            self.segments += segments
            self.cost += cost
            if let latency { latencies.add(microseconds: latency) }
        }
    }

    /// A campaign's messages counted by group in one pass. SQLite's `GROUP BY` sorts every message first, in a
    /// temporary B-tree, to make a handful of groups: twice the time at a million messages.
    private static func messageGroups(_ db: Database, campaign: String) throws -> [MessageGroup: MessageTotals] {
        var groups: [MessageGroup: MessageTotals] = [:]
        let scan = try HotStatement(
            db,
            sql: """
                SELECT carrier, gateway, state, attempts > 0, segments, cost, latencyMicroseconds
                FROM message WHERE campaignID = ?
                """)
        try scan.rows({ $0.bind(campaign) }) { row in
            let group = MessageGroup(
                carrier: row.string(0), gateway: row.string(1), state: row.string(2) ?? "", sent: row.int64(3) != 0)
            groups[group, default: MessageTotals()].add(
                segments: Int(row.int64(4)), cost: row.double(5), latency: row.optionalInt64(6))
        }
        return groups
    }

    public func awaitingReceipts(campaign: String) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT COUNT(*) FROM message WHERE campaignID = ? AND state IN ('ready', 'submitting', 'accepted')",
                arguments: [campaign]) ?? 0
        }
    }

    /// Submit latency p50 and p99 (nearest rank) of every slice, exactly, in bounded memory and without sorting the
    /// campaign: the slices' histograms tell which bucket holds each percentile, and one more pass counts, by value,
    /// the latencies in those buckets.
    private static func addLatencies(
        to figures: inout CampaignFigures, _ latencies: [CampaignFigures.Slice: LatencyHistogram], _ db: Database,
        campaign: String
    ) throws {
        struct Wanted {
            var slice: CampaignFigures.Slice
            var percentile: WritableKeyPath<Funnel, Duration?>
            var bucket: Int
            var rank: Int  // in the bucket, from 1
            var counts: [Int64: Int] = [:]  // the bucket's latencies, by value
        }
        var wanted: [Wanted] = []
        for (slice, histogram) in latencies {
            for (percent, percentile) in [(50, \Funnel.latencyP50), (99, \Funnel.latencyP99)] {
                let rank = LatencyHistogram.nearestRank(percent: percent, of: histogram.total)
                guard let (bucket, inBucket) = histogram.locate(rank: rank) else { continue }
                let range = LatencyHistogram.range(of: bucket)
                if range.count == 1 {
                    figures[slice][keyPath: percentile] = .microseconds(range.lowerBound)
                } else {
                    wanted.append(Wanted(slice: slice, percentile: percentile, bucket: bucket, rank: inBucket))
                }
            }
        }
        guard !wanted.isEmpty else { return }
        let buckets = Set(wanted.map(\.bucket))
        let scan = try HotStatement(
            db,
            sql: """
                SELECT latencyMicroseconds, carrier, gateway FROM message
                WHERE campaignID = ? AND latencyMicroseconds IS NOT NULL
                """)
        try scan.rows({ $0.bind(campaign) }) { row in
            let latency = row.int64(0)
            let bucket = LatencyHistogram.bucket(of: latency)
            guard buckets.contains(bucket) else { return }
            let slices = CampaignFigures.Slice.of(carrier: row.string(1), gateway: row.string(2))
            for index in wanted.indices where wanted[index].bucket == bucket && slices.contains(wanted[index].slice) {
                wanted[index].counts[latency, default: 0] += 1
            }
        }
        for item in wanted {
            var below = 0
            for latency in item.counts.keys.sorted() {
                below += item.counts[latency, default: 0]
                if below >= item.rank {
                    figures[item.slice][keyPath: item.percentile] = .microseconds(latency)
                    break
                }
            }
        }
    }

    public func suppress(_ numbers: [UInt64]) async throws {
        let sorted = numbers.sorted()  // in key order, each B-tree page is written once per batch
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO suppression (number) VALUES (?)")
            for number in sorted { try statement.execute(arguments: [Int64(number)]) }
        }
    }

    public func unsuppress(_ numbers: [UInt64]) async throws {
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM suppression WHERE number = ?")
            for number in numbers { try statement.execute(arguments: [Int64(number)]) }
        }
    }

    public func suppressedNumbers() async throws -> [UInt64] {
        try await pool.read { db in
            try Self.numbers(db, sql: "SELECT number FROM suppression ORDER BY number") { _ in }
        }
    }

    public func cappedNumbers(since: Timestamp, excluding campaign: String?, sends: Int) async throws -> [UInt64] {
        try await pool.read { db in
            try Self.numbers(
                db,
                sql: """
                    SELECT number FROM send WHERE sentAt >= ?1 AND IFNULL(campaignID, '') != ?2
                    GROUP BY number HAVING COUNT(*) >= ?3 ORDER BY number
                    """
            ) { values in
                values.bind(since.secondsSince1970)
                values.bind(campaign ?? "")
                values.bind(sends)
            }
        }
    }

    /// The numbers a query's first column returns, read straight from SQLite: a send's start reads a million of them.
    private static func numbers(
        _ db: Database, sql: String, _ bind: (inout HotStatement.Bindings) -> Void
    ) throws -> [UInt64] {
        var numbers: [UInt64] = []
        try HotStatement(db, sql: sql).rows(bind) { row in numbers.append(UInt64(bitPattern: row.int64(0))) }
        return numbers
    }
}

/// A resumed campaign's input is not the one it journaled: the row at `line` differs, or the input ends before it.
public struct InputMismatch: Error, Hashable, Sendable, CustomStringConvertible {
    public var line: Int
    public var description: String {
        "line \(line) is not the row this campaign journaled there: resume needs the campaign's own input, unchanged"
    }
}

/// A store that cannot be opened or written, with its file; bound values never appear in the message.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}
