import Foundation
import GRDB
public import SparrowCore

// Lifecycle flows: order events, orders, and the durable timers of their messages.
extension SQLiteStore: FlowStore {
    public func ingest(_ events: ArraySlice<OrderEvent>, scheduler: FlowScheduler, stopAtDue: Bool) async throws
        -> [FlowOrder?]
    {
        try await write { db in
            var due =
                stopAtDue
                ? try Int64.fetchOne(db, sql: "SELECT MIN(dueAt) FROM flow_timer WHERE state = 'pending'") : nil
            var orders: [FlowOrder?] = []
            for event in events {
                if let due, !orders.isEmpty, event.at.secondsSince1970 >= due { break }
                let order = try Self.ingest(event, scheduler: scheduler, db)
                orders.append(order?.order)
                if stopAtDue, let set = order?.earliestDue { due = min(due ?? set, set) }
            }
            return orders
        }
    }

    /// Takes one event (`ingest(_:scheduler:stopAtDue:)`).
    /// - Returns: the order after it, and the earliest of the pending timers it set; nil for an event taken before.
    private static func ingest(_ event: OrderEvent, scheduler: FlowScheduler, _ db: Database) throws -> (
        order: FlowOrder, earliestDue: Int64?
    )? {
        try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO flow_event (source, id, orderID, kind, at) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [event.source, event.id, event.order, event.kind.rawValue, event.at.secondsSince1970])
        guard db.changesCount > 0 else { return nil }
        let earlier = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM flow_order WHERE source = ? AND id = ?"),
            arguments: [event.source, event.order]
        ).map(Self.flowOrder)
        let order =
            (earlier ?? FlowOrder(source: event.source, id: event.order, fields: [:], seen: 0, firstAt: event.at))
            .applying(event)
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO flow_order (source, id, fields, seen, firstAt, lastAt, phone, amount, closed)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            order.source, order.id, order.storedFields, order.seen, order.firstAt.secondsSince1970,
            order.lastAt.secondsSince1970, order.phone, order.amount, order.hasSeen(.closed),
        ])
        let (cancelling, laterOrder) = scheduler.cancellations(by: event)
        let cancel = try db.cachedStatement(
            sql: """
                UPDATE flow_timer SET state = 'cancelled', reason = ?, updatedAt = ?
                WHERE source = ? AND orderID = ? AND rule = ? AND state = 'pending'
                """)
        for rule in cancelling.sorted() {
            try cancel.execute(arguments: [
                "\(event.kind.rawValue) event", event.at.secondsSince1970, order.source, order.id, rule,
            ])
        }
        if let phone = order.phone, !laterOrder.isEmpty {
            try db.cachedStatement(
                sql: """
                    UPDATE flow_timer SET state = 'cancelled', reason = ?6, updatedAt = ?1
                    WHERE state = 'pending' AND trigger < ?1 AND rule IN (SELECT value FROM json_each(?2))
                    AND (source, orderID) IN (SELECT source, id FROM flow_order WHERE phone = ?3)
                    AND NOT (source = ?4 AND orderID = ?5)
                    """
            ).execute(arguments: [
                event.at.secondsSince1970, JSONStrings.encode(laterOrder.sorted()), phone, order.source, order.id,
                FlowSkip.laterOrder.rawValue,
            ])
        }
        let insert = try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO flow_timer (rule, key, step, source, orderID, trigger, dueAt, state, reason, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        var earliest: Int64?
        for timer in try scheduler.timers(
            for: event, order: order, dayTotal: { try Self.dayTotal(db, phone: $0, from: $1, to: $2) })
        {
            try insert.execute(arguments: [
                timer.rule, timer.key, timer.step, timer.source, timer.order, timer.trigger.secondsSince1970,
                timer.dueAt.secondsSince1970, timer.state.rawValue, timer.reason, event.at.secondsSince1970,
            ])
            if timer.state == .pending, db.changesCount > 0 {
                earliest = min(earliest ?? timer.dueAt.secondsSince1970, timer.dueAt.secondsSince1970)
            }
        }
        return (order, earliest)
    }

    public func dueFlowTimers(by now: Timestamp, limit: Int) async throws -> [DueFlowTimer] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT t.*, o.fields, o.seen, o.firstAt, o.lastAt FROM flow_timer AS t
                    JOIN flow_order AS o ON o.source = t.source AND o.id = t.orderID
                    WHERE t.state = 'pending' AND t.dueAt <= ? ORDER BY t.dueAt, t.id LIMIT ?
                    """, arguments: [now.secondsSince1970, limit]
            ).map { row in
                DueFlowTimer(
                    timer: Self.flowTimer(row),
                    order: FlowOrder(
                        source: row["source"], id: row["orderID"], fields: FlowOrder.fields(stored: row["fields"]),
                        seen: row["seen"], firstAt: Timestamp(secondsSince1970: row["firstAt"]),
                        lastAt: (row["lastAt"] as Int64?).map(Timestamp.init(secondsSince1970:))))
            }
        }
    }

    public func nextFlowWake(campaigns: [String]) async throws -> Timestamp? {
        try await read { db in
            let timer = try Int64.fetchOne(db, sql: "SELECT MIN(dueAt) FROM flow_timer WHERE state = 'pending'")
            let release = try campaigns.compactMap { campaign in
                try Int64.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT MIN(sendAt) FROM message WHERE campaignID = ? AND state = 'deferred'"),
                    arguments: [campaign])
            }.min()
            return [timer, release].compactMap { $0 }.min().map { Timestamp(secondsSince1970: $0) }
        }
    }

    @discardableResult
    public func settleFlowTimers(_ outcomes: [(timer: Int, outcome: FlowTimerOutcome)], at now: Timestamp) async throws
        -> [JournalEntry]
    {
        try await write { db in
            let settle = try db.cachedStatement(
                sql: """
                    UPDATE flow_timer SET state = ?, reason = ?, messageID = ?, dueAt = IFNULL(?, dueAt), updatedAt = ?
                    WHERE id = ? AND state = 'pending'
                    """)
            let journal = try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO message (id, campaignID, line, recipient, carrier, gateway, text, segments,
                        throttleUnits, cost, sendAt, state, rank, timeZone, parameters, occasion)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            var journaled: [JournalEntry] = []
            for (timer, outcome) in outcomes {
                let (state, reason, messageID, dueAt) = outcome.settled
                try settle.execute(arguments: [
                    state.rawValue, reason, messageID, dueAt, now.secondsSince1970, timer,
                ])
                // A timer an event settled meanwhile (a payment's cancellation) keeps that end, and sends nothing.
                guard db.changesCount > 0, case .sent(let entry) = outcome else { continue }
                try journal.execute(arguments: [
                    entry.id, entry.campaign, entry.line, entry.to, entry.carrier, entry.gateway, entry.text,
                    entry.segments, entry.throttleUnits, entry.cost, entry.sendAt.secondsSince1970,
                    entry.state.rawValue, entry.state.rank, entry.timeZone, JSONStrings.encode(entry.parameters),
                    "\(timer)",
                ])
                journaled.append(entry)
            }
            return journaled
        }
    }

    public func flowDayTotal(phone: String, from: Timestamp, to: Timestamp) async throws -> Double {
        try await read { db in try Self.dayTotal(db, phone: phone, from: from, to: to) }
    }

    public func hasLaterOrder(phone: String, after instant: Timestamp, than order: FlowOrder) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM flow_order WHERE phone = ? AND firstAt > ? AND NOT (source = ? AND id = ?)
                        AND source NOT LIKE 'birthday.%')
                    """, arguments: [phone, instant.secondsSince1970, order.source, order.id]) ?? false
        }
    }

    public func marketingSends(among numbers: [UInt64], since: Timestamp, marketing: [String]) async throws
        -> [UInt64: [Timestamp]]
    {
        guard !numbers.isEmpty else { return [:] }
        let list = "[" + numbers.map(String.init).joined(separator: ",") + "]"
        return try await read { db in
            var sends: [UInt64: [Timestamp]] = [:]
            // Flow campaigns are named flow.*, a prefix `send` refuses: the journal counts theirs.
            let sent = try Row.fetchCursor(
                db,
                sql: """
                    SELECT number, sentAt FROM send WHERE number IN (SELECT value FROM json_each(?)) AND sentAt >= ?
                    AND IFNULL(campaignID, '') NOT LIKE 'flow.%'
                    """, arguments: [list, since.secondsSince1970])
            while let row = try sent.next() {
                sends[UInt64(bitPattern: row[0]), default: []].append(Timestamp(secondsSince1970: row[1]))
            }
            let journaled = try db.cachedStatement(
                sql:
                    "SELECT sendAt FROM message WHERE campaignID = ? AND recipient = ? AND sendAt >= ? AND state != 'failed'"
            )
            for number in numbers {
                for campaign in marketing {
                    for time in try Int64.fetchAll(
                        journaled, arguments: [campaign, "+\(number)", since.secondsSince1970])
                    {
                        sends[number, default: []].append(Timestamp(secondsSince1970: time))
                    }
                }
            }
            return sends
        }
    }

    public func setTransactional(_ campaigns: [String]) async throws {
        try await write { db in
            try db.execute(
                sql:
                    "UPDATE campaign SET transactional = (id IN (SELECT value FROM json_each(?))) WHERE id LIKE 'flow.%'",
                arguments: [JSONStrings.encode(campaigns) ?? "[]"])
        }
    }

    public func lastFlowActivity() async throws -> Timestamp? {
        try await read { db in
            try Int64.fetchOne(
                db,
                sql:
                    "SELECT MAX(at) FROM (SELECT MAX(at) AS at FROM flow_event UNION ALL SELECT MAX(updatedAt) FROM flow_timer)"
            ).map { Timestamp(secondsSince1970: $0) }
        }
    }

    public func releaseDeferred(campaigns: [String], dueBy now: Timestamp, limit: Int) async throws -> [JournalEntry] {
        let list = JSONStrings.encode(campaigns)
        let query = """
            SELECT 1 FROM message WHERE state = 'deferred' AND sendAt <= ? AND campaignID IN (SELECT value FROM json_each(?))
            """
        // Asked first without writing: most passes find nothing, and a write transaction costs a sync.
        guard
            try await read({ db in
                try Bool.fetchOne(db, sql: "SELECT EXISTS (\(query))", arguments: [now.secondsSince1970, list]) ?? false
            })
        else { return [] }
        return try await write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT campaignID, id, line, recipient, carrier, gateway, text, segments, throttleUnits, cost,
                        sendAt, timeZone, parameters
                    FROM message WHERE state = 'deferred' AND sendAt <= ?
                    AND campaignID IN (SELECT value FROM json_each(?)) ORDER BY sendAt LIMIT ?
                    """, arguments: [now.secondsSince1970, list, limit])
            let release = try db.cachedStatement(
                sql: "UPDATE message SET state = 'ready' WHERE id = ? AND state = 'deferred'")
            return try rows.map { row in
                try release.execute(arguments: [row["id"] as String])
                return JournalEntry(
                    id: row["id"], campaign: row["campaignID"], line: row["line"], to: row["recipient"],
                    carrier: row["carrier"], gateway: row["gateway"], text: row["text"], segments: row["segments"],
                    throttleUnits: row["throttleUnits"], cost: row["cost"],
                    sendAt: Timestamp(secondsSince1970: row["sendAt"]), state: .ready, timeZone: row["timeZone"],
                    parameters: JSONStrings.decode(row["parameters"]))
            }
        }
    }

    public func lastFlowPass(rule: String) async throws -> Int64? {
        try await read { db in
            try Int64.fetchOne(db, sql: "SELECT day FROM flow_pass WHERE rule = ?", arguments: [rule])
        }
    }

    public func recordFlowPass(rule: String, day: Int64) async throws {
        try await write { db in
            try db.execute(
                sql:
                    "INSERT INTO flow_pass (rule, day) VALUES (?, ?) ON CONFLICT (rule) DO UPDATE SET day = MAX(day, excluded.day)",
                arguments: [rule, day])
        }
    }

    public func flowStatus(next: Int) async throws -> FlowStatus {
        try await read { db in
            let counts = try Row.fetchAll(
                db,
                sql: """
                    SELECT rule, state, reason, COUNT(*) AS count FROM flow_timer
                    GROUP BY rule, state, reason ORDER BY rule, state, reason
                    """
            ).map { row in
                FlowStatus.Count(
                    rule: row["rule"], state: FlowTimer.State(rawValue: row["state"]) ?? .pending,
                    reason: row["reason"], count: row["count"])
            }
            let pending = try Row.fetchAll(
                db, sql: "SELECT * FROM flow_timer WHERE state = 'pending' ORDER BY dueAt, id LIMIT ?",
                arguments: [next]
            ).map(Self.flowTimer)
            return FlowStatus(
                counts: counts, next: pending,
                events: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM flow_event") ?? 0,
                orders: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM flow_order") ?? 0)
        }
    }

    private static func dayTotal(_ db: Database, phone: String, from: Timestamp, to: Timestamp) throws -> Double {
        try Double.fetchOne(
            db,
            sql: """
                SELECT IFNULL(SUM(amount), 0) FROM flow_order
                WHERE phone = ? AND firstAt >= ? AND firstAt < ? AND NOT closed AND source NOT LIKE 'birthday.%'
                """, arguments: [phone, from.secondsSince1970, to.secondsSince1970]) ?? 0
    }

    private static func flowOrder(_ row: Row) -> FlowOrder {
        FlowOrder(
            source: row["source"], id: row["id"], fields: FlowOrder.fields(stored: row["fields"]), seen: row["seen"],
            firstAt: Timestamp(secondsSince1970: row["firstAt"]),
            lastAt: (row["lastAt"] as Int64?).map(Timestamp.init(secondsSince1970:)))
    }

    private static func flowTimer(_ row: Row) -> FlowTimer {
        FlowTimer(
            id: row["id"], rule: row["rule"], key: row["key"], step: row["step"], source: row["source"],
            order: row["orderID"], trigger: Timestamp(secondsSince1970: row["trigger"]),
            dueAt: Timestamp(secondsSince1970: row["dueAt"]),
            state: FlowTimer.State(rawValue: row["state"]) ?? .pending, reason: row["reason"])
    }
}
