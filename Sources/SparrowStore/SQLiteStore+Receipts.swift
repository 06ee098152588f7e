import GRDB
import SparrowCore

// Delivery receipts: applied to the messages and parts they name, kept aside when they name none yet.
extension SQLiteStore {
    public func apply(_ receipts: [ReceiptRecord]) async throws -> Int {
        try await write { db in
            let intake = try ReceiptIntake(db)
            var moved = 0
            for receipt in receipts { moved += try intake.take(receipt, db) }
            return moved
        }
    }

    /// Takes receipts in: logs each, applies it, and keeps one that names no message or part yet aside.
    struct ReceiptIntake {
        let log: HotStatement
        let unmatched: HotStatement
        let matcher: ReceiptMatcher

        init(_ db: Database) throws {
            log = try HotStatement(
                db, sql: "INSERT INTO receipt (gateway, gatewayMessageID, state, receivedAt) VALUES (?, ?, ?, ?)")
            unmatched = try HotStatement(
                db,
                sql: """
                    INSERT INTO unmatched_receipt (gateway, gatewayMessageID, state, receivedAt) VALUES (?, ?, ?, ?)
                    """)
            matcher = try ReceiptMatcher(db)
        }

        /// Returns how many messages `receipt` moved forward.
        func take(_ receipt: ReceiptRecord, _ db: Database) throws -> Int {
            let bind = { (values: inout HotStatement.Bindings) in
                values.bind(receipt.gateway ?? "")
                values.bind(receipt.gatewayMessageID)
                values.bind(receipt.state.rawValue)
                values.bind(receipt.at.secondsSince1970)
            }
            try log.execute(bind)
            let moved = try matcher.apply(receipt, db)
            if moved == 0, try !matcher.matches(receipt) { try unmatched.execute(bind) }
            return moved
        }
    }

    /// Moves messages, and the parts of messages sent in parts, forward by receipts.
    struct ReceiptMatcher {
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
}
