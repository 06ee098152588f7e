import GRDB
public import SparrowCore

// The journal: campaigns, the messages a run decides, their marks before a request goes and their answers.
extension SQLiteStore {
    public func beginCampaign(
        id: String, template: String, holdout: Double, approved: String?, maxSegments: Int?, at: Timestamp
    ) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO campaign (id, template, holdout, approved, maxSegments, createdAt)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, template, holdout, approved, maxSegments, at.secondsSince1970])
        }
    }

    public func campaign(id: String) async throws -> CampaignRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT rowid, * FROM campaign WHERE id = ?", arguments: [id]).map(Self.campaign)
        }
    }

    public func campaigns() async throws -> [CampaignRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT rowid, * FROM campaign ORDER BY createdAt DESC, id").map(Self.campaign)
        }
    }

    private static func campaign(_ row: Row) -> CampaignRecord {
        CampaignRecord(
            id: row["id"], template: row["template"],
            createdAt: Timestamp(secondsSince1970: row["createdAt"]), inputLines: row["inputLines"],
            holdout: row["holdout"], approved: row["approved"], number: row["rowid"], linkTarget: row["linkTarget"],
            ranking: ranking(row), maxSegments: row["maxSegments"])
    }

    private static func ranking(_ row: Row) -> CampaignRanking? {
        let column: String? = row["rankedBy"]
        let cut = (row["cutLine"] as Int?).map { ValueCut(value: row["cutValue"], line: $0) }
        return column == nil && cut == nil ? nil : CampaignRanking(column: column, cut: cut)
    }

    public func setRanking(campaign: String, _ ranking: CampaignRanking) async throws {
        try await write { db in
            try db.execute(
                sql:
                    "UPDATE campaign SET rankedBy = ?, cutValue = ?, cutLine = ? WHERE id = ? AND rankedBy IS NULL AND cutLine IS NULL",
                arguments: [ranking.column, ranking.cut?.value, ranking.cut?.line, campaign])
        }
    }

    public func finishInput(campaign: String, lines: Int) async throws {
        try await write { db in
            guard try Self.lastJournaledLine(campaign: campaign, db) <= lines else {
                throw InputMismatch(line: lines + 1)
            }
            try db.execute(sql: "UPDATE campaign SET inputLines = ? WHERE id = ?", arguments: [lines, campaign])
        }
    }

    /// The last input line with a decision in the journal, message or skipped row; 0 when there is none.
    private static func lastJournaledLine(campaign: String, _ db: Database) throws -> Int {
        // Cached: every batch the journal takes asks it first.
        try Int.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT MAX(line) FROM (SELECT MAX(line) AS line FROM message WHERE campaignID = ?
                        UNION ALL SELECT MAX(line) FROM skipped WHERE campaignID = ?)
                    """), arguments: [campaign, campaign]) ?? 0
    }

    public func journal(campaign: String, messages: [JournalEntry], skipped: [SkippedRow]) async throws
        -> [MessageState?]
    {
        try await write { db in
            let columns = """
                INSERT OR IGNORE INTO message (id, campaignID, line, recipient, carrier, gateway, text, segments,
                    throttleUnits, cost, sendAt, state, rank, timeZone, parameters)
                """
            // Lines past everything journaled (a first run reads nothing but these) cannot have a decision yet.
            let journaled = try Self.lastJournaledLine(campaign: campaign, db)
            let fresh = try HotStatement(db, sql: columns + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            let again = try db.cachedStatement(
                sql: columns + """
                     SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
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
                            values.bind(JSONStrings.encode(entry.parameters))
                        } > 0
                } else {
                    try again.execute(arguments: [
                        entry.id, entry.campaign, entry.line, entry.to, entry.carrier, entry.gateway, entry.text,
                        entry.segments, entry.throttleUnits, entry.cost, entry.sendAt.secondsSince1970,
                        entry.state.rawValue, entry.state.rank, entry.timeZone,
                        JSONStrings.encode(entry.parameters), entry.campaign, entry.line,
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
                    INSERT OR IGNORE INTO skipped (campaignID, line, status, reason, carrier, gateway, recipient, sendAt)
                    SELECT ?, ?, ?, ?, ?, ?, ?, ?
                    WHERE NOT EXISTS (SELECT 1 FROM message WHERE campaignID = ? AND line = ?)
                    """)
            for row in skipped {
                try skip.execute(arguments: [
                    campaign, row.line, row.status.rawValue, row.reason, row.carrier, row.gateway, row.recipient,
                    row.sendAt?.secondsSince1970, campaign, row.line,
                ])
            }
            return states
        }
    }

    public func postpone(_ messages: [(id: String, sendAt: Timestamp)]) async throws {
        try await write { db in
            let statement = try db.cachedStatement(
                sql: "UPDATE message SET state = 'deferred', sendAt = ? WHERE id = ? AND rank = 0")
            for message in messages { try statement.execute(arguments: [message.sendAt.secondsSince1970, message.id]) }
        }
    }

    @discardableResult
    public func markSubmitting(_ messages: [(id: String, gateway: String)]) async throws -> MarkedMessages {
        try await write { db in
            let statement = try HotStatement(
                db, sql: "UPDATE message SET state = 'submitting', rank = 1, gateway = ? WHERE id = ? AND rank < 1")
            for message in messages {
                try statement.execute { values in
                    values.bind(message.gateway)
                    values.bind(message.id)
                }
            }
        }
        return .all  // one process sends a SQLite store's campaign
    }

    public func unansweredDue(campaign: String, dueBy: Timestamp) async throws -> Int {
        try await read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT count(*) FROM message
                    WHERE campaignID = ? AND rank < 2 AND (sendAt <= ? OR state != 'deferred')
                    """,
                arguments: [campaign, dueBy.secondsSince1970]) ?? 0
        }
    }

    public func record(_ submits: [SubmitRecord]) async throws {
        try await write { db in
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
            let ledger = try SendLedger(db)
            let matcher = try ReceiptMatcher(db)
            // Receipts that came before their answers, if any wait: nothing else writes while this transaction runs.
            let receiptsWaiting = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM unmatched_receipt)") ?? false
            // The one step back: a gateway that takes a message later sends it back to wait, from `submitting`.
            let putOff = try db.cachedStatement(
                sql: """
                    UPDATE message SET state = 'deferred', rank = 0, sendAt = ?, error = ?, attempts = attempts + ?,
                        updatedAt = ?
                    WHERE id = ? AND rank = 1
                    """)
            let suppress = try db.cachedStatement(sql: "INSERT OR IGNORE INTO suppression (number) VALUES (?)")
            for submit in submits {
                if submit.state == .deferred, let sendAt = submit.sendAt {
                    try putOff.execute(arguments: [
                        sendAt.secondsSince1970, submit.error, submit.attempts, submit.at.secondsSince1970, submit.id,
                    ])
                    continue
                }
                if submit.suppress {
                    try suppress.execute(arguments: [Int64(PhoneNumber.value(ofE164: submit.recipient))])
                }
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
                if receiptsWaiting {
                    let ids = submit.partIDs.isEmpty ? (submit.gatewayMessageID.map { [$0] } ?? []) : submit.partIDs
                    for id in ids {
                        try matcher.applyUnmatched(gateway: submit.gateway, gatewayMessageID: id, db)
                    }
                }
                // Sent, or possibly sent: either way it counts against the frequency cap.
                if submit.state == .accepted || submit.state == .unknown {
                    try ledger.add(submit.recipient, sentAt: submit.at, campaign: submit.campaign)
                }
            }
        }
    }

    public func reopenUnknown(campaign: String, gateways: Set<String>) async throws -> Set<String> {
        guard !gateways.isEmpty else { return [] }
        return try await write { db in
            let unknown = try Row.fetchAll(
                db,
                sql: "SELECT id, recipient, gateway, updatedAt FROM message WHERE campaignID = ? AND state = 'unknown'",
                arguments: [campaign])
            let ledger = try SendLedger(db)
            let reopen = try db.cachedStatement(
                sql: "UPDATE message SET state = 'submitting', rank = 1 WHERE id = ? AND state = 'unknown'")
            var reopened: Set<String> = []
            for row in unknown where gateways.contains(row["gateway"]) {
                let id: String = row["id"]
                try ledger.withdraw(row["recipient"], sentAt: row["updatedAt"], campaign: campaign)
                try reopen.execute(arguments: [id])
                reopened.insert(id)
            }
            return reopened
        }
    }

    public func unfinished(
        campaign: String, dueBy: Timestamp, afterLine line: Int, limit: Int
    ) async throws -> [JournalEntry] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, line, recipient, carrier, gateway, text, segments, throttleUnits, cost, sendAt, state,
                        timeZone, parameters
                    FROM message
                    WHERE campaignID = ? AND rank < 2 AND (sendAt <= ? OR state != 'deferred') AND line > ?
                    ORDER BY line LIMIT ?
                    """,
                arguments: [campaign, dueBy.secondsSince1970, line, limit]
            ).map { row in
                JournalEntry(
                    id: row["id"], campaign: campaign, line: row["line"], to: row["recipient"], carrier: row["carrier"],
                    gateway: row["gateway"], text: row["text"], segments: row["segments"],
                    throttleUnits: row["throttleUnits"], cost: row["cost"],
                    sendAt: Timestamp(secondsSince1970: row["sendAt"]),
                    state: MessageState(rawValue: row["state"]) ?? .ready, timeZone: row["timeZone"],
                    parameters: JSONStrings.decode(row["parameters"]))
            }
        }
    }

    public func nextRelease(campaign: String) async throws -> Timestamp? {
        try await read { db in
            try Int64.fetchOne(
                db, sql: "SELECT MIN(sendAt) FROM message WHERE campaignID = ? AND state = 'deferred'",
                arguments: [campaign]
            ).map { Timestamp(secondsSince1970: $0) }
        }
    }
}

/// Strings in one SQL value: a JSON array, NULL for none. An approved template's parameters in the journal; a list
/// a query takes as one argument (`IN (SELECT value FROM json_each(?))`).
package enum JSONStrings {
    package static func encode(_ parameters: [String]) -> String? {
        guard !parameters.isEmpty else { return nil }
        var json = JSONWriter()
        json.array { array in for parameter in parameters { array.element(parameter) } }
        return String(decoding: json.bytes, as: UTF8.self)
    }

    package static func decode(_ text: String?) -> [String] {
        guard let text, case .array(let elements)? = try? JSONValue.parse(Array(text.utf8)) else { return [] }
        return elements.map { $0.text ?? "" }
    }
}
