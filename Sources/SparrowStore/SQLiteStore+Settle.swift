import GRDB
public import SparrowCore

// What gateways' status queries found: messages whose answer was lost settled, or opened again to be sent.
extension SQLiteStore {
    public func unsettled(
        campaign: String, gateways: Set<String>, awaitingReceipts: Bool, afterLine line: Int, limit: Int
    ) async throws -> [UnsettledMessage] {
        guard !gateways.isEmpty else { return [] }
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT id, line, recipient, gateway, state, gatewayMessageID, sendAt, updatedAt FROM message
                    WHERE campaignID = ? AND line > ? AND state IN ('unknown', 'submitting', ?)
                        AND gateway IN (SELECT value FROM json_each(?))
                    ORDER BY line LIMIT ?
                    """,
                arguments: [
                    campaign, line, awaitingReceipts ? "accepted" : "unknown", JSONStrings.encode(gateways.sorted()),
                    limit,
                ]
            ).map { row in
                UnsettledMessage(
                    id: row["id"], line: row["line"], recipient: row["recipient"], gateway: row["gateway"],
                    state: MessageState(rawValue: row["state"]) ?? .unknown, gatewayMessageID: row["gatewayMessageID"],
                    sendAt: Timestamp(secondsSince1970: row["sendAt"]),
                    updatedAt: Timestamp(secondsSince1970: row["updatedAt"] ?? row["sendAt"]))
            }
        }
    }

    public func settle(_ findings: [StatusFinding]) async throws -> [MessageState: Int] {
        try await write { db in
            let intake = try ReceiptIntake(db)
            let ledger = try SendLedger(db)
            let byID = try db.cachedStatement(
                sql: "SELECT id, campaignID, recipient, state, updatedAt FROM message WHERE id = ? AND gateway = ?")
            let byRecipient = try db.cachedStatement(
                sql: """
                    SELECT id, campaignID, recipient, state, updatedAt FROM message
                    WHERE campaignID = ? AND recipient = ? AND gateway = ?
                    """)
            let move = try db.cachedStatement(
                sql: """
                    UPDATE message SET state = ?, rank = ?, gatewayMessageID = COALESCE(?, gatewayMessageID),
                        error = COALESCE(?, error), updatedAt = ?, attempts = MAX(attempts, ?)
                    WHERE id = ?
                    """)
            var moved: [MessageState: Int] = [:]
            func count(_ messages: Int, _ state: MessageState) {
                if messages > 0 { moved[state, default: 0] += messages }
            }
            for finding in findings {
                let row: Row?
                switch finding.message {
                case .gatewayMessageID(let id):
                    let receipt = ReceiptRecord(
                        gateway: finding.gateway, gatewayMessageID: id, state: finding.state, at: finding.at)
                    count(try intake.take(receipt, db), finding.state)
                    continue
                case .id(let id):
                    row = try Row.fetchOne(byID, arguments: [id, finding.gateway])
                case .recipient(let campaign, let e164):
                    row = try Row.fetchOne(byRecipient, arguments: [campaign, e164, finding.gateway])
                }
                guard let row, let state = MessageState(rawValue: row["state"]) else {
                    // A status that names no message of its campaign is still a receipt for the gateway's id.
                    if let id = finding.gatewayMessageID {
                        let receipt = ReceiptRecord(
                            gateway: finding.gateway, gatewayMessageID: id, state: finding.state, at: finding.at)
                        count(try intake.take(receipt, db), finding.state)
                    }
                    continue
                }
                let inDoubt = state == .unknown || state == .submitting
                let campaign: String = row["campaignID"]
                let recipient: String = row["recipient"]
                switch finding.state {
                case .ready:
                    guard inDoubt else { continue }
                    if state == .unknown {
                        try ledger.withdraw(recipient, sentAt: row["updatedAt"], campaign: campaign)
                    }
                case .accepted:
                    guard inDoubt else { continue }
                default:
                    guard state.rank < finding.state.rank else { continue }
                }
                // Taken by the gateway: it was submitted, and counts against the frequency cap.
                if state == .submitting, finding.state != .ready {
                    try ledger.add(recipient, sentAt: finding.at, campaign: campaign)
                }
                try move.execute(arguments: [
                    finding.state.rawValue, finding.state.rank, finding.gatewayMessageID, finding.error,
                    finding.at.secondsSince1970, finding.state == .ready ? 0 : 1, row["id"] as String,
                ])
                count(1, finding.state)
            }
            return moved
        }
    }
}

/// The frequency cap's ledger: a row per send of a number, with its campaign and time. Its statements are hot ones,
/// left reset, as the journal's others.
struct SendLedger {
    private let insert: HotStatement
    private let delete: HotStatement

    init(_ db: Database) throws {
        insert = try HotStatement(db, sql: "INSERT INTO send (number, sentAt, campaignID) VALUES (?, ?, ?)")
        // The row a message's answer added: same number, campaign and time (found through the time index).
        delete = try HotStatement(
            db,
            sql: """
                DELETE FROM send WHERE rowid = (
                    SELECT rowid FROM send WHERE sentAt = ? AND number = ? AND campaignID = ? LIMIT 1)
                """)
    }

    func add(_ e164: String, sentAt: Timestamp, campaign: String) throws {
        try insert.execute { values in
            values.bind(Int64(PhoneNumber.value(ofE164: e164)))
            values.bind(sentAt.secondsSince1970)
            values.bind(campaign)
        }
    }

    /// Takes back the row a message's answer added at `sentAt`.
    func withdraw(_ e164: String, sentAt: Int64?, campaign: String) throws {
        try delete.execute { values in
            values.bind(sentAt)
            values.bind(Int64(PhoneNumber.value(ofE164: e164)))
            values.bind(campaign)
        }
    }
}
