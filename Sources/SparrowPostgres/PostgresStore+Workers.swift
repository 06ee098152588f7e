public import CoreMetrics
import Foundation
import PostgresNIO
public import SparrowCore
import SparrowStore
import Synchronization

/// A process sending a campaign's messages from a shared database beside others, as the database knows it: live
/// while its heartbeats come within its lease.
public struct WorkerLease: Sendable, Hashable {
    /// Unique to the process: its host, its pid and a random tag.
    public let id: String
    /// How long a heartbeat keeps it live: another worker takes its messages once that long has passed without one.
    public let lease: Duration
}

/// What a worker's store counts of its own work: the messages it claimed (its metrics), and those it marked to send,
/// which its heartbeats tell the database (`sparrow workers`).
final class WorkerTally: Sendable {
    private let claims: Counter?
    private let marks = Atomic<Int>(0)

    init(claimed: Counter?) {
        claims = claimed
    }

    func claimed(_ count: Int) { claims?.increment(by: count) }
    func marked(_ count: Int) { marks.add(count, ordering: .relaxed) }
    var marked: Int { marks.load(ordering: .relaxed) }
}

/// A worker whose lease ran out before its heartbeat renewed it: other workers may hold its messages now, so it
/// must send nothing more.
public struct LeaseLost: Error, CustomStringConvertible {
    public let worker: String
    public var description: String {
        "worker \(worker) lost its lease (no heartbeat reached the database in time): its messages are other workers' now"
    }
}

/// A registered worker, for `sparrow workers`.
public struct WorkerStatus: Sendable, Hashable {
    public var id: String
    public var host: String
    public var pid: Int
    public var campaign: String
    public var startedAt: Timestamp
    /// Since its last heartbeat, on the database's clock.
    public var silentFor: Duration
    public var lease: Duration
    /// Messages it holds that are not answered yet.
    public var holding: Int
    /// Messages it marked to send, as of its last heartbeat.
    public var sent: Int
    /// Messages a second it marked between its last two heartbeats (its registration and its first heartbeat, at
    /// first); nil before its first.
    public var rate: Double?

    public var live: Bool { silentFor <= lease }
}

// Workers: each registers, renews its lease with heartbeats, claims messages (`unfinished`, `markSubmitting`) and
// hands them back when it stops. Times are the database's, in microseconds: the workers' clocks never meet.
extension PostgresStore {
    /// Migration 4: the workers' table, the messages' claims and the two functions their queries share.
    static let workers = [
        """
        CREATE FUNCTION sparrow_now() RETURNS bigint LANGUAGE sql VOLATILE
        AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint $$
        """,
        """
        CREATE TABLE sparrow_worker (
            id text PRIMARY KEY, host text NOT NULL, pid bigint NOT NULL, campaign text NOT NULL,
            started_at bigint NOT NULL, seen_at bigint NOT NULL, lease bigint NOT NULL,
            sender boolean NOT NULL)  -- a send or resume, which holds the campaign and journals its input
        """,
        """
        CREATE FUNCTION sparrow_live(worker text) RETURNS boolean LANGUAGE sql VOLATILE
        AS $$ SELECT EXISTS (SELECT 1 FROM sparrow_worker WHERE id = worker AND seen_at >= sparrow_now() - lease) $$
        """,
        "ALTER TABLE sparrow_message ADD COLUMN claimed_by text",
        // What workers claim: a campaign's unanswered messages, in line order.
        "CREATE INDEX sparrow_message_unanswered ON sparrow_message (campaign, line) WHERE rank < 2",
        claimFunction,
    ]

    /// Migration 6: what each worker has sent, and its rate between its last two heartbeats.
    static let workerRates = [
        "ALTER TABLE sparrow_worker ADD COLUMN sent bigint NOT NULL DEFAULT 0, ADD COLUMN rate double precision"
    ]

    /// A claim (`unfinished`): the next `limit` claimable in line order, through `sparrow_message_unanswered`: ready
    /// or in flight whatever their time, deferred ones once due. A table filled moments ago has no statistics yet, and
    /// the planner would rather sort every unanswered message of the campaign on each claim: bitmap scans and sorts
    /// are off inside the function. PL/pgSQL keeps its plan. (Migration 4 made it, migration 7 made it the present
    /// one: a worker whose clock ran behind the sender's claimed nothing it had decided.)
    static let claimFunction = """
        CREATE OR REPLACE FUNCTION sparrow_claim(p_campaign text, p_worker text, p_due bigint, p_after bigint, p_limit bigint)
        RETURNS TABLE (
            id text, line bigint, recipient text, carrier text, gateway text, text text, segments bigint,
            throttle_units bigint, cost double precision, send_at bigint, state text, time_zone text,
            parameters text)
        LANGUAGE plpgsql SET enable_bitmapscan = off SET enable_sort = off AS $$
        #variable_conflict use_column
        BEGIN
            RETURN QUERY
            UPDATE sparrow_message m SET claimed_by = p_worker
            FROM (
                SELECT c.id FROM sparrow_message c
                WHERE c.campaign = p_campaign AND c.rank < 2 AND (c.send_at <= p_due OR c.state <> 'deferred')
                    AND c.line > p_after
                    AND (c.claimed_by IS NULL OR NOT sparrow_live(c.claimed_by))
                ORDER BY c.line LIMIT p_limit FOR UPDATE SKIP LOCKED) AS claimed
            WHERE m.id = claimed.id AND sparrow_live(p_worker)
            RETURNING m.id, m.line, m.recipient, m.carrier, m.gateway, m.text, m.segments, m.throttle_units, m.cost,
                m.send_at, m.state, m.time_zone, m.parameters;
        END
        $$
        """

    /// Migration 7: `claimFunction` as it is now.
    static let claimsWhateverTheClock = [claimFunction]

    /// Registers this process as a worker on `campaign`, live for `lease` from now. A `sender` (a `send` or
    /// `resume`) also holds the campaign while it runs (`holding(campaign:)`).
    public func register(campaign: String, lease: Duration, sender: Bool = false) async throws -> WorkerLease {
        let host = ProcessInfo.processInfo.hostName
        let pid = Int(ProcessInfo.processInfo.processIdentifier)
        var generator = SystemRandomNumberGenerator()
        let tag = String(UInt32.random(in: 0...UInt32.max, using: &generator), radix: 36)
        let worker = WorkerLease(id: "\(host)-\(pid)-\(tag)", lease: lease)
        try await database.execute(
            """
            INSERT INTO sparrow_worker (id, host, pid, campaign, started_at, seen_at, lease, sender)
            VALUES (
                \(worker.id), \(host), \(pid), \(campaign), sparrow_now(), sparrow_now(), \(Self.microseconds(lease)),
                \(sender))
            """)
        return worker
    }

    /// This store, claiming the messages it reads and marks for `worker`.
    /// - Parameter claimed: counts the messages claimed.
    public func claiming(as worker: WorkerLease, claimed: Counter? = nil) -> PostgresStore {
        PostgresStore(database, worker: worker.id, tally: WorkerTally(claimed: claimed))
    }

    /// Messages this store, claiming for a worker, has marked to send so far.
    public var messagesMarked: Int { tally?.marked ?? 0 }

    /// Renews the worker's lease from now, telling the database how many messages it has marked to send so far
    /// (`sent`), from which it keeps the worker's rate since its last heartbeat.
    /// - Throws: `LeaseLost` when it had run out already (then others may hold its messages).
    public func renew(_ worker: WorkerLease, sent: Int? = nil) async throws {
        let renewed = try await database.connection { connection in
            try await connection.query(
                """
                UPDATE sparrow_worker SET seen_at = sparrow_now(), sent = coalesce(\(sent), sent),
                    rate = CASE WHEN \(sent)::bigint IS NULL THEN rate
                        ELSE (\(sent) - sent) * 1000000.0 / greatest(sparrow_now() - seen_at, 1) END
                WHERE id = \(worker.id) AND seen_at >= sparrow_now() - lease RETURNING id
                """, logger: database.logger
            ).collect().count
        }
        guard renewed == 1 else { throw LeaseLost(worker: worker.id) }
    }

    /// Hands the worker's unanswered messages back, for others to claim, and removes it.
    public func release(_ worker: WorkerLease) async throws {
        try await database.transaction { connection in
            try await connection.query(
                "UPDATE sparrow_message SET claimed_by = NULL WHERE claimed_by = \(worker.id) AND rank < 2",
                logger: database.logger)
            try await connection.query("DELETE FROM sparrow_worker WHERE id = \(worker.id)", logger: database.logger)
        }
    }

    /// Every registered worker, the earliest first: live ones, and those whose lease ran out without a release.
    public func workers() async throws -> [WorkerStatus] {
        try await database.connection { connection in
            try await connection.query(
                """
                SELECT w.id, host, pid, w.campaign, started_at, sparrow_now() - seen_at, lease,
                    (SELECT count(*) FROM sparrow_message m WHERE m.claimed_by = w.id AND m.rank < 2), sent, rate
                FROM sparrow_worker w ORDER BY started_at, w.id
                """, logger: database.logger
            ).collect().map { row in
                let (id, host, pid, campaign, startedAt, silent, lease, holding, sent, rate) = try row.decode(
                    (String, String, Int, String, Int64, Int64, Int64, Int, Int, Double?).self)
                return WorkerStatus(
                    id: id, host: host, pid: pid, campaign: campaign,
                    startedAt: Timestamp(secondsSince1970: startedAt / 1_000_000), silentFor: .microseconds(silent),
                    lease: .microseconds(lease), holding: holding, sent: sent, rate: rate)
            }
        }
    }

    /// Runs `body` as a worker on `campaign`: registered, its lease renewed every third of it, and its claims handed
    /// back when `body` returns or throws. A lease lost cancels `body` and throws `LeaseLost`; so do three heartbeats
    /// in a row that the database did not take, with its error.
    ///
    /// It counts, through `metrics`: `sparrow_worker_claimed_total` (the messages it claimed), and
    /// `sparrow_worker_heartbeats_total{result}` (`renewed`, or `missed` when the database did not take one).
    public func asWorker<Result: Sendable>(
        campaign: String, lease: Duration, sender: Bool = false, clock: any Clock<Duration> = ContinuousClock(),
        metrics: any MetricsFactory = NOOPMetricsHandler.instance,
        _ body: @escaping @Sendable (PostgresStore) async throws -> Result
    ) async throws -> Result {
        func heartbeats(_ result: String) -> Counter {
            Counter(label: "sparrow_worker_heartbeats_total", dimensions: [("result", result)], factory: metrics)
        }
        let (renewed, missedOne) = (heartbeats("renewed"), heartbeats("missed"))
        let worker = try await register(campaign: campaign, lease: lease, sender: sender)
        let claiming = claiming(
            as: worker, claimed: Counter(label: "sparrow_worker_claimed_total", factory: metrics))
        do {
            let result = try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask { try await body(claiming) }
                group.addTask {
                    // A heartbeat the database did not take is tried again at the next; three in a row (a whole
                    // lease) stop the worker. Its marks are refused meanwhile once the lease runs out, whatever it
                    // believes.
                    var missed = 0
                    while true {
                        try await clock.sleep(for: lease / 3)
                        do {
                            try await renew(worker, sent: claiming.messagesMarked)
                            renewed.increment()
                            missed = 0
                        } catch let error as StoreError {
                            missedOne.increment()
                            missed += 1
                            if missed == 3 { throw error }
                        }
                    }
                }
                defer { group.cancelAll() }
                return try await group.next()!!  // the heartbeat only ends by throwing
            }
            try await release(worker)
            return result
        } catch {
            try? await release(worker)  // one that fails leaves the claims to the lease's end
            throw error
        }
    }

    private static func microseconds(_ duration: Duration) -> Int64 {
        Int64(duration / .microseconds(1))
    }
}
