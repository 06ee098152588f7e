import GRDB
public import SparrowCore

// A campaign's effect: its recipients read for measuring, the measurement kept, and its responders for narrowing.
extension SQLiteStore {
    public func effectRecipients(campaign: String) async throws -> [EffectRecipient] {
        try await read { db in
            var recipients: [EffectRecipient] = []
            let messages = try Row.fetchCursor(
                db,
                sql: """
                    SELECT recipient, carrier, sendAt, state, cost,
                        (SELECT MIN(at) FROM click WHERE click.campaignID = message.campaignID AND click.line = message.line)
                            AS clickedAt
                    FROM message WHERE campaignID = ?
                    """, arguments: [campaign])
            while let row = try messages.next() {
                let reach: EffectRecipient.Reach =
                    switch MessageState(rawValue: row["state"]) {
                    case .delivered?: .delivered
                    case .accepted?, .unknown?, .undelivered?, .expired?: .sent
                    default: .none
                    }
                recipients.append(
                    EffectRecipient(
                        number: PhoneNumber.value(ofE164: row["recipient"]), heldOut: false, carrier: row["carrier"],
                        sentAt: Timestamp(secondsSince1970: row["sendAt"]), reach: reach, cost: row["cost"],
                        clickedAt: (row["clickedAt"] as Int64?).map(Timestamp.init(secondsSince1970:))))
            }
            let heldOut = try Row.fetchCursor(
                db,
                sql: """
                    SELECT recipient, carrier, sendAt FROM skipped
                    WHERE campaignID = ? AND status = ? AND recipient IS NOT NULL
                    """, arguments: [campaign, PlanStatus.heldOut.rawValue])
            while let row = try heldOut.next() {
                recipients.append(
                    EffectRecipient(
                        number: PhoneNumber.value(ofE164: row["recipient"]), heldOut: true, carrier: row["carrier"],
                        sentAt: Timestamp(secondsSince1970: row["sendAt"]), reach: .none, cost: 0))
            }
            return recipients
        }
    }

    public func saveEffect(campaign: String, _ effect: CampaignEffect, responders: [UInt64]) async throws {
        try await write { db in
            try db.execute(
                sql: "UPDATE campaign SET effectWindow = ?, effectMeasuredAt = ? WHERE id = ?",
                arguments: [effect.window, effect.measuredAt.secondsSince1970, campaign])
            try db.execute(sql: "DELETE FROM effect WHERE campaignID = ?", arguments: [campaign])
            try db.execute(sql: "DELETE FROM responder WHERE campaignID = ?", arguments: [campaign])
            let insert = try db.makeStatement(
                sql: """
                    INSERT INTO effect (campaignID, dimension, key, heldOut, recipients, sent, delivered, responders,
                        clickers, buyers, orders, revenue, revenueSquares, cost)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            for row in effect.rows {
                for (heldOut, group) in [(false, row.sent), (true, row.holdout)] {
                    try insert.execute(arguments: [
                        campaign, row.dimension.rawValue, row.key, heldOut, group.recipients, group.sent,
                        group.delivered, group.responders, group.clickers, group.buyers, group.orders,
                        group.revenue.minorUnits,
                        group.revenueSquares, group.cost,
                    ])
                }
            }
            let respond = try db.makeStatement(sql: "INSERT INTO responder (campaignID, number) VALUES (?, ?)")
            for number in responders { try respond.execute(arguments: [campaign, Int64(bitPattern: number)]) }
        }
    }

    public func effect(campaign: String) async throws -> CampaignEffect? {
        try await read { db in
            guard
                let measured = try Row.fetchOne(
                    db, sql: "SELECT effectWindow, effectMeasuredAt FROM campaign WHERE id = ?", arguments: [campaign]),
                let window = measured["effectWindow"] as Int64?, let at = measured["effectMeasuredAt"] as Int64?
            else { return nil }
            let stored = try Row.fetchAll(db, sql: "SELECT * FROM effect WHERE campaignID = ?", arguments: [campaign])
            let rows = EffectRow.assembled(
                from: stored.lazy.map { stored -> (dimension: String, key: String, heldOut: Bool, group: EffectGroup) in
                    let group = EffectGroup(
                        recipients: stored["recipients"], sent: stored["sent"], delivered: stored["delivered"],
                        responders: stored["responders"], clickers: stored["clickers"], buyers: stored["buyers"],
                        orders: stored["orders"], revenue: Money(minorUnits: stored["revenue"]),
                        revenueSquares: stored["revenueSquares"], cost: stored["cost"])
                    return (stored["dimension"], stored["key"], stored["heldOut"], group)
                })
            return CampaignEffect(
                window: window, measuredAt: Timestamp(secondsSince1970: at), rows: rows)
        }
    }

    public func marketingHistory() async throws -> [UInt64: MarketingHistory] {
        try await read { db in
            var history: [UInt64: MarketingHistory] = [:]
            let sent = try Row.fetchCursor(
                db,
                sql: """
                    SELECT recipient, COUNT(*) AS received, MAX(sendAt) AS lastSent FROM message
                    WHERE state IN ('accepted', 'delivered', 'undelivered', 'expired', 'unknown')
                    AND campaignID NOT IN (SELECT id FROM campaign WHERE transactional) GROUP BY recipient
                    """)
            while let row = try sent.next() {
                history[PhoneNumber.value(ofE164: row["recipient"])] = MarketingHistory(
                    received: row["received"], lastSent: Timestamp(secondsSince1970: row["lastSent"]))
            }
            let responded = try Row.fetchCursor(
                db, sql: "SELECT number, COUNT(*) AS campaigns FROM responder GROUP BY number")
            while let row = try responded.next() {
                history[UInt64(bitPattern: row["number"]), default: MarketingHistory()].responded = row["campaigns"]
            }
            return history
        }
    }

    public func recipients(of campaign: String, responded: Bool) async throws -> [UInt64] {
        try await read { db in
            let responders = try Int64.fetchAll(
                db, sql: "SELECT number FROM responder WHERE campaignID = ? ORDER BY number", arguments: [campaign]
            ).map { UInt64(bitPattern: $0) }
            guard !responded else { return responders }
            let kept = Set(responders)
            return try String.fetchAll(
                db, sql: "SELECT recipient FROM message WHERE campaignID = ? AND state = 'delivered'",
                arguments: [campaign]
            ).map(PhoneNumber.value(ofE164:)).filter { !kept.contains($0) }.sorted()
        }
    }
}
