import PostgresNIO
public import SparrowCore
public import SparrowStore

// The journal: the messages a run decides, their marks before a request goes and their answers. Arrays bound as
// one value each carry a batch; a column that may be NULL travels as a sentinel (`""`, or -1 where every value is
// positive) that `NULLIF` turns back into NULL, since postgres-nio's arrays have no NULL elements.
extension PostgresStore {
    public func finishInput(campaign: String, lines: Int) async throws {
        try await database.transaction { connection in
            guard try await lastJournaledLine(campaign: campaign, connection) <= lines else {
                throw InputMismatch(line: lines + 1)
            }
            try await connection.query(
                "UPDATE sparrow_campaign SET input_lines = \(lines) WHERE id = \(campaign)", logger: database.logger)
        }
    }

    /// The last input line with a decision in the journal, message or skipped row; 0 when there is none.
    private func lastJournaledLine(campaign: String, _ connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            """
            SELECT greatest(
                (SELECT max(line) FROM sparrow_message WHERE campaign = \(campaign)),
                (SELECT max(line) FROM sparrow_skipped WHERE campaign = \(campaign)), 0)
            """, logger: database.logger
        ).collect()[0].decode(Int.self)
    }

    public func journal(campaign: String, messages: [JournalEntry], skipped: [SkippedRow]) async throws
        -> [MessageState?]
    {
        try await database.transaction { connection in
            // Lines past everything journaled (a first run reads nothing but these) cannot have a decision yet: one
            // insert takes them all, in line order, and the unique (campaign, recipient) skips a number's later rows.
            let journaled = try await lastJournaledLine(campaign: campaign, connection)
            let fresh = messages.filter { $0.line > journaled }
            let inserted = try await insert(fresh, campaign: campaign, connection)
            var states: [MessageState?] = []
            states.reserveCapacity(messages.count)
            var skipped = skipped
            for entry in messages {
                if entry.line > journaled {
                    if inserted.contains(entry.id) {
                        states.append(entry.state)
                    } else {
                        states.append(nil)  // the number has a message already
                        skipped.append(entry.duplicate)
                    }
                } else if let state = try await journalAgain(entry, campaign: campaign, connection) {
                    states.append(state)
                } else {
                    states.append(nil)  // first decided as skipped, or a duplicate (its skipped row is kept once)
                    skipped.append(entry.duplicate)
                }
            }
            try await skip(skipped, campaign: campaign, connection)
            return states
        }
    }

    /// Inserts messages at lines nothing was decided at yet; returns the ids inserted.
    private func insert(_ entries: [JournalEntry], campaign: String, _ connection: PostgresConnection) async throws
        -> Set<String>
    {
        guard !entries.isEmpty else { return [] }
        let rows = try await connection.query(
            """
            INSERT INTO sparrow_message (id, campaign, line, recipient, carrier, gateway, text, segments,
                throttle_units, cost, send_at, state, rank, time_zone, parameters)
            SELECT id, \(campaign), line, recipient, nullif(carrier, ''), gateway, text, segments, units, cost, send_at,
                state, rank, nullif(zone, ''), nullif(parameters, '')
            FROM unnest(\(entries.map(\.id))::text[], \(entries.map(\.line))::bigint[], \(entries.map(\.to))::text[],
                \(entries.map { $0.carrier ?? "" })::text[], \(entries.map(\.gateway))::text[],
                \(entries.map(\.text))::text[], \(entries.map(\.segments))::bigint[],
                \(entries.map(\.throttleUnits))::bigint[], \(entries.map(\.cost))::float8[],
                \(entries.map(\.sendAt.secondsSince1970))::bigint[], \(entries.map(\.state.rawValue))::text[],
                \(entries.map(\.state.rank))::bigint[], \(entries.map { $0.timeZone ?? "" })::text[],
                \(entries.map { JSONStrings.encode($0.parameters) ?? "" })::text[])
                WITH ORDINALITY AS m(id, line, recipient, carrier, gateway, text, segments, units, cost, send_at, state,
                    rank, zone, parameters, position)
            ORDER BY position
            ON CONFLICT DO NOTHING
            RETURNING id
            """, logger: database.logger)
        var ids: Set<String> = []
        for try await id in rows.decode(String.self) { ids.insert(id) }
        return ids
    }

    /// Journals a row read again (a resume): inserted only where its line has no decision. Returns its state now,
    /// or nil when its line was decided as skipped (or it is a duplicate).
    /// - Throws: `InputMismatch` when another number's message is journaled at its line.
    private func journalAgain(_ entry: JournalEntry, campaign: String, _ connection: PostgresConnection) async throws
        -> MessageState?
    {
        let inserted = try await connection.query(
            """
            INSERT INTO sparrow_message (id, campaign, line, recipient, carrier, gateway, text, segments,
                throttle_units, cost, send_at, state, rank, time_zone, parameters)
            SELECT \(entry.id), \(campaign), \(entry.line), \(entry.to), \(entry.carrier), \(entry.gateway),
                \(entry.text), \(entry.segments), \(entry.throttleUnits), \(entry.cost),
                \(entry.sendAt.secondsSince1970), \(entry.state.rawValue), \(entry.state.rank), \(entry.timeZone),
                \(JSONStrings.encode(entry.parameters))
            WHERE NOT EXISTS (SELECT 1 FROM sparrow_skipped WHERE campaign = \(campaign) AND line = \(entry.line))
                AND NOT EXISTS (SELECT 1 FROM sparrow_message WHERE campaign = \(campaign) AND line = \(entry.line))
            ON CONFLICT DO NOTHING
            RETURNING state
            """, logger: database.logger
        ).collect()
        guard inserted.isEmpty else { return entry.state }
        let current = try await connection.query(
            "SELECT id, state FROM sparrow_message WHERE campaign = \(campaign) AND line = \(entry.line)",
            logger: database.logger
        ).collect()
        guard let row = current.first else { return nil }
        let (id, state) = try row.decode((String, String).self)
        guard id == entry.id else { throw InputMismatch(line: entry.line) }
        return MessageState(rawValue: state)
    }

    /// Records rows that became no message, unless their line has a message.
    private func skip(_ rows: [SkippedRow], campaign: String, _ connection: PostgresConnection) async throws {
        guard !rows.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO sparrow_skipped (campaign, line, status, reason, carrier, gateway, recipient, send_at)
            SELECT \(campaign), line, status, nullif(reason, ''), nullif(carrier, ''), nullif(gateway, ''),
                nullif(recipient, ''), nullif(send_at, -1)
            FROM unnest(\(rows.map(\.line))::bigint[], \(rows.map(\.status.rawValue))::text[],
                \(rows.map { $0.reason ?? "" })::text[], \(rows.map { $0.carrier ?? "" })::text[],
                \(rows.map { $0.gateway ?? "" })::text[], \(rows.map { $0.recipient ?? "" })::text[],
                \(rows.map { $0.sendAt?.secondsSince1970 ?? -1 })::bigint[])
                AS s(line, status, reason, carrier, gateway, recipient, send_at)
            WHERE NOT EXISTS (SELECT 1 FROM sparrow_message WHERE campaign = \(campaign) AND line = s.line)
            ON CONFLICT DO NOTHING
            """, logger: database.logger)
    }

    public func postpone(_ messages: [(id: String, sendAt: Timestamp)]) async throws {
        guard !messages.isEmpty else { return }
        try await database.execute(
            """
            UPDATE sparrow_message m SET state = 'deferred', send_at = p.send_at, claimed_by = NULL
            FROM unnest(\(messages.map(\.id))::text[], \(messages.map(\.sendAt.secondsSince1970))::bigint[])
                AS p(id, send_at)
            WHERE m.id = p.id AND m.rank = 0
            """)
    }

    /// Outside a worker, marks every message given. A worker marks (and so claims) those no other live worker
    /// holds and not answered yet, and only while its own lease holds: a worker that lost its lease sends nothing.
    @discardableResult
    public func markSubmitting(_ messages: [(id: String, gateway: String)]) async throws -> MarkedMessages {
        guard !messages.isEmpty else { return .all }
        let ids = messages.map(\.id)
        let gateways = messages.map(\.gateway)
        guard let worker else {
            try await database.execute(
                """
                UPDATE sparrow_message m SET state = 'submitting', rank = 1, gateway = s.gateway
                FROM unnest(\(ids)::text[], \(gateways)::text[]) AS s(id, gateway)
                WHERE m.id = s.id AND m.rank < 1
                """)
            return .all
        }
        // A message marked before (one found in flight) keeps the gateway it may have reached.
        return try await database.connection { connection in
            var marked: Set<String> = []
            for try await id in try await connection.query(
                """
                UPDATE sparrow_message m SET state = 'submitting', rank = 1, claimed_by = \(worker),
                    gateway = CASE WHEN m.rank < 1 THEN s.gateway ELSE m.gateway END
                FROM unnest(\(ids)::text[], \(gateways)::text[]) AS s(id, gateway)
                WHERE m.id = s.id AND m.rank < 2 AND sparrow_live(\(worker))
                    AND (m.claimed_by IS NULL OR m.claimed_by = \(worker) OR NOT sparrow_live(m.claimed_by))
                RETURNING m.id
                """, logger: database.logger
            ).decode(String.self) {
                marked.insert(id)
            }
            tally?.marked(marked.count)
            return .only(marked)
        }
    }

    public func unansweredDue(campaign: String, dueBy: Timestamp) async throws -> Int {
        try await database.connection { connection in
            try await connection.query(
                """
                SELECT count(*) FROM sparrow_message
                WHERE campaign = \(campaign) AND rank < 2
                    AND (send_at <= \(dueBy.secondsSince1970) OR state <> 'deferred')
                """, logger: database.logger
            ).collect()[0].decode(Int.self)
        }
    }

    public func record(_ submits: [SubmitRecord]) async throws {
        guard !submits.isEmpty else { return }
        let putOff = submits.filter { $0.state == .deferred && $0.sendAt != nil }
        let answers = submits.filter { !($0.state == .deferred && $0.sendAt != nil) }
        try await database.transaction { connection in
            // Receipts that came before their answers wait under the gateway's ids: those ids are locked before any
            // message is written, as a receipt's intake locks them (`applyReceipts`), so that the two never miss
            // each other.
            let gatewayIDs = answers.flatMap {
                $0.partIDs.isEmpty ? ($0.gatewayMessageID.map { [$0] } ?? []) : $0.partIDs
            }
            try await lockReceipts(of: gatewayIDs, connection)
            // The one step back: a gateway that takes a message later sends it back to wait, from `submitting`.
            if !putOff.isEmpty {
                try await connection.query(
                    """
                    UPDATE sparrow_message m SET state = 'deferred', rank = 0, send_at = p.send_at,
                        error = nullif(p.error, ''), attempts = m.attempts + p.attempts, updated_at = p.at,
                        claimed_by = NULL
                    FROM unnest(\(putOff.map(\.id))::text[], \(putOff.map { $0.sendAt!.secondsSince1970 })::bigint[],
                        \(putOff.map { $0.error ?? "" })::text[], \(putOff.map(\.attempts))::bigint[],
                        \(putOff.map(\.at.secondsSince1970))::bigint[]) AS p(id, send_at, error, attempts, at)
                    WHERE m.id = p.id AND m.rank = 1
                    """, logger: database.logger)
            }
            // In key order, as `suppress` writes them: two transactions inserting the same numbers in other orders
            // could each wait for the other's.
            let refused = answers.filter(\.suppress).map { Int64(PhoneNumber.value(ofE164: $0.recipient)) }.sorted()
            if !refused.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO sparrow_suppression (number) SELECT unnest(\(refused)::bigint[])
                    ON CONFLICT (number) DO NOTHING
                    """, logger: database.logger)
            }
            guard !answers.isEmpty else { return }
            let moved = try await connection.query(
                """
                UPDATE sparrow_message m SET state = s.state, rank = s.rank, gateway = s.gateway,
                    gateway_message_id = nullif(s.gateway_message_id, ''), attempts = s.attempts,
                    latency_us = nullif(s.latency, -1), error = nullif(s.error, ''), updated_at = s.at, parts = s.parts
                FROM unnest(\(answers.map(\.id))::text[], \(answers.map(\.state.rawValue))::text[],
                    \(answers.map(\.state.rank))::bigint[], \(answers.map(\.gateway))::text[],
                    \(answers.map { $0.gatewayMessageID ?? "" })::text[], \(answers.map(\.attempts))::bigint[],
                    \(answers.map { $0.latency.map { Int64($0 / .microseconds(1)) } ?? -1 })::bigint[],
                    \(answers.map { $0.error ?? "" })::text[], \(answers.map(\.at.secondsSince1970))::bigint[],
                    \(answers.map { max(1, $0.partIDs.count) })::bigint[])
                    AS s(id, state, rank, gateway, gateway_message_id, attempts, latency, error, at, parts)
                WHERE m.id = s.id AND m.rank < s.rank
                RETURNING m.id
                """, logger: database.logger)
            var movedIDs: Set<String> = []
            for try await id in moved.decode(String.self) { movedIDs.insert(id) }
            // Only a message that moved forward is recorded.
            let recorded = answers.filter { movedIDs.contains($0.id) }
            let parts = recorded.flatMap { submit in submit.partIDs.map { (submit.id, submit.gateway, $0) } }
            if !parts.isEmpty {
                try await connection.query(
                    """
                    INSERT INTO sparrow_part (message, gateway, gateway_message_id, state, rank)
                    SELECT message, gateway, id, 'accepted', 2
                    FROM unnest(\(parts.map(\.0))::text[], \(parts.map(\.1))::text[], \(parts.map(\.2))::text[])
                        AS p(message, gateway, id)
                    ON CONFLICT DO NOTHING
                    """, logger: database.logger)
            }
            try await applyWaitingReceipts(of: recorded, connection)
            // Sent, or possibly sent: either way it counts against the frequency cap.
            let sends = recorded.filter { $0.state == .accepted || $0.state == .unknown }
            try await addSends(
                sends.map { (PhoneNumber.value(ofE164: $0.recipient), $0.at, $0.campaign) }, connection)
        }
    }

    /// Applies, and takes out of the unmatched ones, the receipts that arrived for the recorded messages' gateway ids
    /// before their answers.
    private func applyWaitingReceipts(of recorded: [SubmitRecord], _ connection: PostgresConnection) async throws {
        let named = recorded.flatMap { submit in
            (submit.partIDs.isEmpty ? (submit.gatewayMessageID.map { [$0] } ?? []) : submit.partIDs).map {
                (submit.gateway, $0)
            }
        }
        guard !named.isEmpty else { return }
        let waiting = try await connection.query(
            """
            DELETE FROM sparrow_unmatched_receipt u
            USING unnest(\(named.map(\.0))::text[], \(named.map(\.1))::text[]) AS w(gateway, id)
            WHERE u.gateway_message_id = w.id AND u.gateway IN (w.gateway, '')
            RETURNING u.id, w.gateway, u.gateway_message_id, u.state, u.received_at
            """, logger: database.logger
        ).collect()
        let receipts = try waiting.map { try $0.decode((Int64, String, String, String, Int64).self) }
            .sorted { $0.0 < $1.0 }
            .compactMap { _, gateway, id, state, at in
                MessageState(rawValue: state).map {
                    ReceiptRecord(
                        gateway: gateway, gatewayMessageID: id, state: $0, at: Timestamp(secondsSince1970: at))
                }
            }
        _ = try await applyReceipts(receipts, intake: false, connection)
    }

    /// Adds rows to the frequency cap's ledger: a number, its campaign and when it was sent.
    func addSends(_ sends: [(number: UInt64, at: Timestamp, campaign: String)], _ connection: PostgresConnection)
        async throws
    {
        guard !sends.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO sparrow_send (number, sent_at, campaign)
            SELECT * FROM unnest(\(sends.map { Int64(bitPattern: $0.number) })::bigint[],
                \(sends.map(\.at.secondsSince1970))::bigint[], \(sends.map(\.campaign))::text[])
            """, logger: database.logger)
    }

    /// Takes back from the ledger the rows messages' answers added: one row each, of the same number, time and
    /// campaign.
    func withdrawSends(_ sends: [(number: UInt64, at: Int64, campaign: String)], _ connection: PostgresConnection)
        async throws
    {
        guard !sends.isEmpty else { return }
        try await connection.query(
            """
            DELETE FROM sparrow_send WHERE ctid IN (
                SELECT (SELECT ctid FROM sparrow_send s
                    WHERE s.sent_at = w.at AND s.number = w.number AND s.campaign = w.campaign LIMIT 1)
                FROM unnest(\(sends.map { Int64(bitPattern: $0.number) })::bigint[], \(sends.map(\.at))::bigint[],
                    \(sends.map(\.campaign))::text[]) AS w(number, at, campaign))
            """, logger: database.logger)
    }

    public func reopenUnknown(campaign: String, gateways: Set<String>) async throws -> Set<String> {
        guard !gateways.isEmpty else { return [] }
        return try await database.transaction { connection in
            let rows = try await connection.query(
                """
                UPDATE sparrow_message SET state = 'submitting', rank = 1, claimed_by = NULL
                WHERE campaign = \(campaign) AND state = 'unknown' AND gateway = ANY(\(gateways.sorted())::text[])
                RETURNING id, recipient, coalesce(updated_at, send_at)
                """, logger: database.logger
            ).collect().map { try $0.decode((String, String, Int64).self) }
            try await withdrawSends(
                rows.map { (PhoneNumber.value(ofE164: $0.1), $0.2, campaign) }, connection)
            return Set(rows.map(\.0))
        }
    }

    /// A worker claims the messages it returns, skipping those another live worker holds (or claims at this moment):
    /// several workers share the campaign's messages without waiting on each other. A message a dead worker held is
    /// claimed again, and found in flight when it was `submitting`.
    public func unfinished(
        campaign: String, dueBy: Timestamp, afterLine line: Int, limit: Int
    ) async throws -> [JournalEntry] {
        let due = dueBy.secondsSince1970
        var query: PostgresQuery = """
            SELECT id, line, recipient, carrier, gateway, text, segments, throttle_units, cost, send_at, state,
                time_zone, parameters
            FROM sparrow_message
            WHERE campaign = \(campaign) AND rank < 2 AND (send_at <= \(due) OR state <> 'deferred') AND line > \(line)
            ORDER BY line LIMIT \(limit)
            """
        if let worker {
            query = "SELECT * FROM sparrow_claim(\(campaign), \(worker), \(due), \(line), \(limit))"
        }
        let entries = try await database.connection { connection in
            try await connection.query(query, logger: database.logger).collect().map { row in
                let (id, line, to, carrier, gateway, text, segments, units, cost, sendAt, state, zone, parameters) =
                    try row.decode(
                        (
                            String, Int, String, String?, String, String, Int, Int, Double, Int64, String, String?,
                            String?
                        )
                        .self)
                return JournalEntry(
                    id: id, campaign: campaign, line: line, to: to, carrier: carrier, gateway: gateway, text: text,
                    segments: segments, throttleUnits: units, cost: cost, sendAt: Timestamp(secondsSince1970: sendAt),
                    state: MessageState(rawValue: state) ?? .ready, timeZone: zone,
                    parameters: JSONStrings.decode(parameters))
            }.sorted { $0.line < $1.line }
        }
        if !entries.isEmpty { tally?.claimed(entries.count) }
        return entries
    }

    public func nextRelease(campaign: String) async throws -> Timestamp? {
        try await database.connection { connection in
            try await connection.query(
                "SELECT min(send_at) FROM sparrow_message WHERE campaign = \(campaign) AND state = 'deferred'",
                logger: database.logger
            ).collect()[0].decode(Int64?.self).map(Timestamp.init(secondsSince1970:))
        }
    }
}
