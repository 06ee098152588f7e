import PostgresNIO
public import SparrowCore
public import SparrowStore

// Delivery receipts and what gateways' status queries found. Several webhooks may take receipts while workers record
// answers: a receipt and the answer naming the same gateway id lock that id first, so that one of them always sees
// the other (the answer applies a receipt kept aside, or the receipt finds the answer's message).
extension PostgresStore {
    /// Applies one receipt, in the database, in the order a batch's receipts come: moves a message sent whole
    /// forward, moves its parts forward and settles a message in parts once every part has a final state (delivered
    /// when all were, else undelivered if one was, else expired, as SQLite's store settles them). With `intake` it is logged
    /// first, and kept aside when it names no message or part yet. Returns how many messages it moved.
    static let applyReceipt = """
        CREATE FUNCTION sparrow_apply_receipt(
            p_gateway text, p_id text, p_state text, p_rank bigint, p_at bigint, p_intake boolean)
        RETURNS bigint LANGUAGE plpgsql AS $$
        DECLARE
            moved bigint;
            settled bigint;
            whole text;
        BEGIN
            IF p_intake THEN
                INSERT INTO sparrow_receipt (gateway, gateway_message_id, state, received_at)
                VALUES (coalesce(p_gateway, ''), p_id, p_state, p_at);
            END IF;
            UPDATE sparrow_message SET state = p_state, rank = p_rank, updated_at = p_at
            WHERE gateway_message_id = p_id AND (gateway = p_gateway OR p_gateway IS NULL) AND rank < p_rank
                AND parts = 1;
            GET DIAGNOSTICS moved = ROW_COUNT;
            FOR whole IN
                UPDATE sparrow_part SET state = p_state, rank = p_rank
                WHERE gateway_message_id = p_id AND (gateway = p_gateway OR p_gateway IS NULL) AND rank < p_rank
                RETURNING message
            LOOP
                -- Receipts for two parts of one message, taken at once by two webhooks, each see the other's part
                -- once they have the message's row in turn: the second settles it.
                PERFORM 1 FROM sparrow_message WHERE id = whole FOR UPDATE;
                CONTINUE WHEN EXISTS (SELECT 1 FROM sparrow_part WHERE message = whole AND rank < 3);
                UPDATE sparrow_message SET rank = 3, updated_at = p_at, state = CASE
                    WHEN EXISTS (SELECT 1 FROM sparrow_part WHERE message = whole AND state = 'undelivered')
                        THEN 'undelivered'
                    WHEN EXISTS (SELECT 1 FROM sparrow_part WHERE message = whole AND state = 'expired') THEN 'expired'
                    ELSE 'delivered' END
                WHERE id = whole AND rank < 3;
                GET DIAGNOSTICS settled = ROW_COUNT;
                moved := moved + settled;
            END LOOP;
            IF p_intake AND moved = 0
                AND NOT EXISTS (SELECT 1 FROM sparrow_message
                    WHERE gateway_message_id = p_id AND (gateway = p_gateway OR p_gateway IS NULL))
                AND NOT EXISTS (SELECT 1 FROM sparrow_part
                    WHERE gateway_message_id = p_id AND (gateway = p_gateway OR p_gateway IS NULL))
            THEN
                INSERT INTO sparrow_unmatched_receipt (gateway, gateway_message_id, state, received_at)
                VALUES (coalesce(p_gateway, ''), p_id, p_state, p_at);
            END IF;
            RETURN moved;
        END
        $$
        """

    public func apply(_ receipts: [ReceiptRecord]) async throws -> Int {
        guard !receipts.isEmpty else { return 0 }
        return try await database.transaction { connection in
            try await lockReceipts(of: receipts.map(\.gatewayMessageID), connection)
            return try await applyReceipts(receipts, intake: true, connection)
        }
    }

    /// Locks gateway ids for this transaction, in one order for every process (so that two never wait on each
    /// other): a receipt's intake and an answer's record of the same id run one after the other.
    func lockReceipts(of gatewayIDs: [String], _ connection: PostgresConnection) async throws {
        guard !gatewayIDs.isEmpty else { return }
        try await connection.query(
            """
            SELECT count(pg_advisory_xact_lock(\(Self.receiptLocks), key))
            FROM (SELECT DISTINCT hashtext(id) AS key FROM unnest(\(gatewayIDs)::text[]) AS id ORDER BY key) AS k
            """, logger: database.logger)
    }

    /// The first key of the receipts' advisory locks (the second is the gateway id's hash).
    private static let receiptLocks: Int32 = 737_026

    /// Applies receipts in order through `sparrow_apply_receipt`, in one statement; returns how many messages moved.
    func applyReceipts(_ receipts: [ReceiptRecord], intake: Bool, _ connection: PostgresConnection) async throws
        -> Int
    {
        guard !receipts.isEmpty else { return 0 }
        // NULL (any gateway) travels as "", which no gateway is named.
        return try await connection.query(
            """
            SELECT coalesce(sum(moved), 0)::bigint FROM (
                SELECT sparrow_apply_receipt(nullif(gateway, ''), id, state, rank, at, \(intake)) AS moved
                FROM unnest(\(receipts.map { $0.gateway ?? "" })::text[], \(receipts.map(\.gatewayMessageID))::text[],
                    \(receipts.map(\.state.rawValue))::text[], \(receipts.map(\.state.rank))::bigint[],
                    \(receipts.map(\.at.secondsSince1970))::bigint[])
                    WITH ORDINALITY AS r(gateway, id, state, rank, at, position)
                ORDER BY position) AS applied
            """, logger: database.logger
        ).collect()[0].decode(Int.self)
    }

    /// A message another live worker holds is left out: it may be in that worker's window, its request about to go,
    /// and only that worker may settle it (a status query not knowing it yet would send it again).
    public func unsettled(
        campaign: String, gateways: Set<String>, awaitingReceipts: Bool, afterLine line: Int, limit: Int
    ) async throws -> [UnsettledMessage] {
        guard !gateways.isEmpty else { return [] }
        return try await database.connection { connection in
            try await connection.query(
                """
                SELECT id, line, recipient, gateway, state, gateway_message_id, send_at, coalesce(updated_at, send_at)
                FROM sparrow_message
                WHERE campaign = \(campaign) AND line > \(line)
                    AND state IN ('unknown', 'submitting', \(awaitingReceipts ? "accepted" : "unknown"))
                    AND gateway = ANY(\(gateways.sorted())::text[])
                    AND (claimed_by IS NULL OR claimed_by = \(worker ?? "") OR NOT sparrow_live(claimed_by))
                ORDER BY line LIMIT \(limit)
                """, logger: database.logger
            ).collect().map { row in
                let (id, line, recipient, gateway, state, gatewayID, sendAt, updatedAt) = try row.decode(
                    (String, Int, String, String, String, String?, Int64, Int64).self)
                return UnsettledMessage(
                    id: id, line: line, recipient: recipient, gateway: gateway,
                    state: MessageState(rawValue: state) ?? .unknown, gatewayMessageID: gatewayID,
                    sendAt: Timestamp(secondsSince1970: sendAt), updatedAt: Timestamp(secondsSince1970: updatedAt))
            }
        }
    }

    public func settle(_ findings: [StatusFinding]) async throws -> [MessageState: Int] {
        guard !findings.isEmpty else { return [:] }
        return try await database.transaction { connection in
            try await lockReceipts(of: findings.compactMap(\.gatewayMessageID), connection)
            var moved: [MessageState: Int] = [:]
            func count(_ messages: Int, _ state: MessageState) {
                if messages > 0 { moved[state, default: 0] += messages }
            }
            for finding in findings {
                let row: PostgresRow?
                switch finding.message {
                case .gatewayMessageID(let id):
                    let receipt = ReceiptRecord(
                        gateway: finding.gateway, gatewayMessageID: id, state: finding.state, at: finding.at)
                    count(try await applyReceipts([receipt], intake: true, connection), finding.state)
                    continue
                case .id(let id):
                    row = try await connection.query(
                        """
                        SELECT id, campaign, recipient, state, updated_at FROM sparrow_message
                        WHERE id = \(id) AND gateway = \(finding.gateway) FOR UPDATE
                        """, logger: database.logger
                    ).collect().first
                case .recipient(let campaign, let e164):
                    row = try await connection.query(
                        """
                        SELECT id, campaign, recipient, state, updated_at FROM sparrow_message
                        WHERE campaign = \(campaign) AND recipient = \(e164) AND gateway = \(finding.gateway) FOR UPDATE
                        """, logger: database.logger
                    ).collect().first
                }
                guard
                    let (id, campaign, recipient, stateName, updatedAt) = try row?.decode(
                        (String, String, String, String, Int64?).self), let state = MessageState(rawValue: stateName)
                else {
                    // A status that names no message of its campaign is still a receipt for the gateway's id.
                    if let id = finding.gatewayMessageID {
                        let receipt = ReceiptRecord(
                            gateway: finding.gateway, gatewayMessageID: id, state: finding.state, at: finding.at)
                        count(try await applyReceipts([receipt], intake: true, connection), finding.state)
                    }
                    continue
                }
                let inDoubt = state == .unknown || state == .submitting
                let number = PhoneNumber.value(ofE164: recipient)
                switch finding.state {
                case .ready:
                    guard inDoubt else { continue }
                    if state == .unknown, let updatedAt {
                        try await withdrawSends([(number, updatedAt, campaign)], connection)
                    }
                case .accepted:
                    guard inDoubt else { continue }
                default:
                    guard state.rank < finding.state.rank else { continue }
                }
                // Taken by the gateway: it was submitted, and counts against the frequency cap.
                if state == .submitting, finding.state != .ready {
                    try await addSends([(number, finding.at, campaign)], connection)
                }
                try await connection.query(
                    """
                    UPDATE sparrow_message SET state = \(finding.state.rawValue), rank = \(finding.state.rank),
                        gateway_message_id = coalesce(\(finding.gatewayMessageID), gateway_message_id),
                        error = coalesce(\(finding.error), error), updated_at = \(finding.at.secondsSince1970),
                        attempts = greatest(attempts, \(finding.state == .ready ? 0 : 1)),
                        claimed_by = CASE WHEN \(finding.state == .ready) THEN NULL ELSE claimed_by END
                    WHERE id = \(id)
                    """, logger: database.logger)
                count(1, finding.state)
            }
            return moved
        }
    }
}
