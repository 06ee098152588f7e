import Foundation
import PostgresNIO
public import SparrowCore
public import SparrowStore

/// The store on PostgreSQL (`store: postgres://…`): the journal, receipts, reports, suppression list and frequency
/// cap of SQLite's store, in a database that several processes share. Every method is one transaction, and a batch
/// is a few statements over arrays (`unnest`), not a statement per row: a round trip costs more than the row.
///
/// Its tables are SQLite's, named `sparrow_…`, with times in seconds since 1970 as SQLite keeps them. The journal
/// semantics are the same, as the contract tests run against both show.
///
/// This file holds the schema, campaigns, links and the suppression list; the journal, receipts and figures are in
/// `PostgresStore+Journal.swift`, `+Receipts` and `+Figures`.
public struct PostgresStore: CampaignStore {
    let database: PostgresDatabase
    /// The worker this store claims messages for (`claiming(as:)`); nil outside a worker.
    let worker: String?
    /// What the worker's store counts of its work.
    let tally: WorkerTally?

    public init(_ database: PostgresDatabase) {
        self.database = database
        worker = nil
        tally = nil
    }

    init(_ database: PostgresDatabase, worker: String, tally: WorkerTally) {
        self.database = database
        self.worker = worker
        self.tally = tally
    }

    /// The store's tables (migration 3), SQLite's as of its v18 less the flows'.
    static let schema = [
        """
        CREATE TABLE sparrow_campaign (
            id text PRIMARY KEY,
            number bigint GENERATED ALWAYS AS IDENTITY UNIQUE,  -- in its tracked links' codes
            template text NOT NULL, created_at bigint NOT NULL, input_lines bigint,
            holdout double precision NOT NULL DEFAULT 0, approved text, link_target text,
            ranked_by text, cut_value double precision, cut_line bigint, max_segments bigint,
            effect_window bigint, effect_measured_at bigint, transactional boolean NOT NULL DEFAULT false)
        """,
        """
        CREATE TABLE sparrow_message (
            id text PRIMARY KEY, campaign text NOT NULL REFERENCES sparrow_campaign, line bigint NOT NULL,
            recipient text NOT NULL, carrier text, gateway text NOT NULL, text text NOT NULL, segments bigint NOT NULL,
            throttle_units bigint NOT NULL, cost double precision NOT NULL, send_at bigint NOT NULL,
            state text NOT NULL, rank bigint NOT NULL, attempts bigint NOT NULL DEFAULT 0, gateway_message_id text,
            latency_us bigint, error text, updated_at bigint, parts bigint NOT NULL DEFAULT 1, time_zone text,
            parameters text,  -- an approved template's values, a JSON array
            occasion text NOT NULL DEFAULT '',
            UNIQUE (campaign, recipient, occasion))  -- a number gets one message a campaign
        """,
        "CREATE INDEX sparrow_message_line ON sparrow_message (campaign, line)",
        "CREATE INDEX sparrow_message_gateway_message_id ON sparrow_message (gateway_message_id)",
        "CREATE INDEX sparrow_message_deferred ON sparrow_message (campaign, send_at) WHERE state = 'deferred'",
        "CREATE INDEX sparrow_message_unknown ON sparrow_message (campaign) WHERE state = 'unknown'",
        """
        CREATE TABLE sparrow_skipped (
            campaign text NOT NULL REFERENCES sparrow_campaign, line bigint NOT NULL, status text NOT NULL,
            reason text, carrier text, gateway text, recipient text, send_at bigint, PRIMARY KEY (campaign, line))
        """,
        """
        CREATE TABLE sparrow_part (
            message text NOT NULL, gateway text NOT NULL, gateway_message_id text NOT NULL, state text NOT NULL,
            rank bigint NOT NULL, PRIMARY KEY (message, gateway_message_id))
        """,
        "CREATE INDEX sparrow_part_gateway_message_id ON sparrow_part (gateway_message_id)",
        """
        CREATE TABLE sparrow_receipt (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, gateway text NOT NULL,
            gateway_message_id text NOT NULL, state text NOT NULL, received_at bigint NOT NULL)
        """,
        """
        CREATE TABLE sparrow_unmatched_receipt (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, gateway text NOT NULL,
            gateway_message_id text NOT NULL, state text NOT NULL, received_at bigint NOT NULL)
        """,
        "CREATE INDEX sparrow_unmatched_receipt_id ON sparrow_unmatched_receipt (gateway_message_id)",
        "CREATE TABLE sparrow_suppression (number bigint PRIMARY KEY)",  // E.164 digits as one integer
        "CREATE TABLE sparrow_send (number bigint NOT NULL, sent_at bigint NOT NULL, campaign text)",
        "CREATE INDEX sparrow_send_time ON sparrow_send (sent_at)",
        """
        CREATE TABLE sparrow_effect (
            campaign text NOT NULL REFERENCES sparrow_campaign, dimension text NOT NULL, key text NOT NULL,
            held_out boolean NOT NULL, recipients bigint NOT NULL, sent bigint NOT NULL, delivered bigint NOT NULL,
            responders bigint NOT NULL, clickers bigint NOT NULL, buyers bigint NOT NULL, orders bigint NOT NULL,
            revenue bigint NOT NULL, revenue_squares double precision NOT NULL, cost double precision NOT NULL,
            PRIMARY KEY (campaign, dimension, key, held_out))
        """,
        """
        CREATE TABLE sparrow_responder (
            campaign text NOT NULL REFERENCES sparrow_campaign, number bigint NOT NULL, PRIMARY KEY (campaign, number))
        """,
        "CREATE TABLE sparrow_secret (name text PRIMARY KEY, value bytea NOT NULL)",
        """
        CREATE TABLE sparrow_click (
            campaign text NOT NULL REFERENCES sparrow_campaign, line bigint NOT NULL, at bigint NOT NULL)
        """,
        "CREATE INDEX sparrow_click_line ON sparrow_click (campaign, line)",
        PostgresStore.applyReceipt,
    ]

    /// The columns of `campaigns`' rows, as `campaign(_:)` decodes them.
    private static let campaignColumns: PostgresQuery = """
        SELECT id, template, created_at, input_lines, holdout, approved, number, link_target, ranked_by, cut_value,
            cut_line, max_segments
        FROM sparrow_campaign
        """

    public func beginCampaign(
        id: String, template: String, holdout: Double, approved: String?, maxSegments: Int?, at: Timestamp
    ) async throws {
        try await database.execute(
            """
            INSERT INTO sparrow_campaign (id, template, holdout, approved, max_segments, created_at)
            VALUES (\(id), \(template), \(holdout), \(approved), \(maxSegments), \(at.secondsSince1970))
            ON CONFLICT (id) DO NOTHING
            """)
    }

    public func campaign(id: String) async throws -> CampaignRecord? {
        try await campaigns(where: "WHERE id = \(id)").first
    }

    public func campaigns() async throws -> [CampaignRecord] {
        try await campaigns(where: "ORDER BY created_at DESC, id")
    }

    private func campaigns(where condition: PostgresQuery) async throws -> [CampaignRecord] {
        var query = Self.campaignColumns
        query.sql += " " + condition.sql
        query.binds = condition.binds
        return try await database.connection { connection in
            try await connection.query(query, logger: database.logger).collect().map { row in
                let (
                    id, template, createdAt, inputLines, holdout, approved, number, target, rankedBy, cutValue, cutLine,
                    maxSegments
                ) = try row.decode(
                    (String, String, Int64, Int?, Double, String?, Int, String?, String?, Double?, Int?, Int?).self)
                let cut = cutLine.map { ValueCut(value: cutValue ?? 0, line: $0) }
                return CampaignRecord(
                    id: id, template: template, createdAt: Timestamp(secondsSince1970: createdAt),
                    inputLines: inputLines, holdout: holdout, approved: approved, number: number, linkTarget: target,
                    ranking: rankedBy == nil && cut == nil ? nil : CampaignRanking(column: rankedBy, cut: cut),
                    maxSegments: maxSegments)
            }
        }
    }

    public func setRanking(campaign: String, _ ranking: CampaignRanking) async throws {
        try await database.execute(
            """
            UPDATE sparrow_campaign SET ranked_by = \(ranking.column), cut_value = \(ranking.cut?.value),
                cut_line = \(ranking.cut?.line)
            WHERE id = \(campaign) AND ranked_by IS NULL AND cut_line IS NULL
            """)
    }

    public func setLinkTarget(campaign: String, _ target: String) async throws {
        try await database.execute(
            "UPDATE sparrow_campaign SET link_target = \(target) WHERE id = \(campaign) AND link_target IS NULL")
    }

    public func linkKey() async throws -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let made = ByteBuffer(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        // The first process to ask makes the key; every other one reads it.
        return try await database.transaction { connection in
            try await connection.query(
                "INSERT INTO sparrow_secret (name, value) VALUES ('link-key', \(made)) ON CONFLICT (name) DO NOTHING",
                logger: database.logger)
            let rows = try await connection.query(
                "SELECT value FROM sparrow_secret WHERE name = 'link-key'", logger: database.logger
            ).collect()
            return Array(buffer: try rows[0].decode(ByteBuffer.self))
        }
    }

    public func recordClick(campaignNumber number: Int, line: Int, at: Timestamp) async throws -> (
        campaign: String, target: String?
    )? {
        try await database.transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO sparrow_click (campaign, line, at)
                SELECT c.id, \(line), \(at.secondsSince1970) FROM sparrow_campaign c
                WHERE c.number = \(number)
                    AND EXISTS (SELECT 1 FROM sparrow_message WHERE campaign = c.id AND line = \(line))
                RETURNING campaign, (SELECT link_target FROM sparrow_campaign WHERE number = \(number))
                """, logger: database.logger
            ).collect()
            return try rows.first.map { try $0.decode((String, String?).self) }
        }
    }

    public func suppress(_ numbers: [UInt64]) async throws {
        let sorted = numbers.sorted().map { Int64(bitPattern: $0) }  // in key order, as SQLite's store writes them
        try await database.execute(
            """
            INSERT INTO sparrow_suppression (number) SELECT unnest(\(sorted)::bigint[])
            ON CONFLICT (number) DO NOTHING
            """)
    }

    public func unsuppress(_ numbers: [UInt64]) async throws {
        let numbers = numbers.map { Int64(bitPattern: $0) }
        try await database.execute(
            "DELETE FROM sparrow_suppression WHERE number = ANY(\(numbers)::bigint[])")
    }

    public func suppressedNumbers() async throws -> [UInt64] {
        try await numbers("SELECT number FROM sparrow_suppression ORDER BY number")
    }

    public func suppressed(among numbers: [UInt64]) async throws -> Set<UInt64> {
        guard !numbers.isEmpty else { return [] }
        let wanted = numbers.map { Int64(bitPattern: $0) }
        return Set(
            try await self.numbers("SELECT number FROM sparrow_suppression WHERE number = ANY(\(wanted)::bigint[])"))
    }

    public func cappedNumbers(since: Timestamp, excluding campaign: String?, sends: Int) async throws -> [UInt64] {
        try await numbers(
            """
            SELECT number FROM sparrow_send WHERE sent_at >= \(since.secondsSince1970)
                AND coalesce(campaign, '') != \(campaign ?? "")
                AND coalesce(campaign, '') NOT IN (SELECT id FROM sparrow_campaign WHERE transactional)
            GROUP BY number HAVING count(*) >= \(sends) ORDER BY number
            """)
    }

    /// Runs `body` while this process holds `campaign`, as a SQLite store's lock file holds it: a session's
    /// advisory lock, on a connection kept for it, which the server releases if the process dies or its host is
    /// lost. Returns nil at once, without running `body`, while another process holds the campaign. A worker that
    /// gets it (a sender) takes the place of the campaign's earlier senders at once: their leases end.
    public func holding<Value: Sendable>(campaign: String, _ body: () async throws -> Value) async throws
        -> Value?
    {
        let outcome: Result<Value, any Error>? = try await database.wrappingErrors {
            try await database.client.withConnection { connection in
                let locked = try await connection.query(
                    "SELECT pg_try_advisory_lock(\(Self.campaignLocks), hashtext(\(campaign)))",
                    logger: database.logger
                ).collect()[0].decode(Bool.self)
                guard locked else { return nil }
                // The campaign's earlier sender let go of it: it died. What it held is this sender's to finish now,
                // not after its lease.
                if let worker {
                    try await connection.query(
                        """
                        UPDATE sparrow_worker SET seen_at = 0
                        WHERE campaign = \(campaign) AND sender AND id <> \(worker)
                        """, logger: database.logger)
                }
                let outcome: Result<Value, any Error>
                do {
                    outcome = .success(try await body())
                } catch {
                    outcome = .failure(error)
                }
                // An unlock that fails leaves the lock on this session until the pool closes it, as the commands do
                // as soon as `body` has returned.
                _ = try? await connection.query(
                    "SELECT pg_advisory_unlock(\(Self.campaignLocks), hashtext(\(campaign)))", logger: database.logger)
                return outcome
            }
        }
        return try outcome?.get()
    }

    /// The first key of the campaigns' advisory locks (the second is the campaign id's hash).
    private static let campaignLocks: Int32 = 737_027

    /// The numbers a query's one column returns.
    func numbers(_ query: PostgresQuery) async throws -> [UInt64] {
        try await database.connection { connection in
            var numbers: [UInt64] = []
            for try await number in try await connection.query(query, logger: database.logger).decode(Int64.self) {
                numbers.append(UInt64(bitPattern: number))
            }
            return numbers
        }
    }
}
