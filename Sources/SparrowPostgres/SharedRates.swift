import Logging
import PostgresNIO
public import SparrowCore
import SparrowStore
import Synchronization

/// Carriers' rates shared by every worker through the database: one GCRA value per carrier, leased in units with
/// their spans of use (`SharedRate`), read and moved on in one transaction against the database's clock.
///
/// A worker's death loses the units it leased and did not use, which is the safe side: the others never send more
/// for it. When the database cannot be reached, nothing is leased: a lease waits, or fails, and never grants.
///
/// The processes sharing a carrier's rate must agree on its rate and burst: each lease records its own, and one that
/// finds another's logs a warning, once a carrier.
public struct SharedRates: Sendable {
    let database: PostgresDatabase
    /// The carriers whose disagreement was logged, shared by the copies of this value.
    private let warned = Warned()

    private final class Warned: Sendable {
        let carriers = Lock<Set<String>>([])
    }

    public init(_ database: PostgresDatabase) {
        self.database = database
    }

    /// Leases up to `wanted` units of `carrier`'s `rate` due within `horizon` from now, and `minimum` of them however
    /// far ahead (`SharedRate.lease`). Four round trips: the row is locked by the first statement and written by the
    /// second, and the clock is read after the lock, so `now` never trails a lease granted while this one waited.
    /// - Throws: `StoreError`; `CancellationError` when cancelled while it waits for a connection.
    public func lease(
        _ wanted: Int, minimum: Int = 0, of carrier: String, at rate: SharedRate, horizon: Duration
    ) async throws -> RateLease {
        let logger = database.logger
        let horizon = Int64(horizon / .microseconds(1))
        return try await database.transaction { connection in
            let rows = try await connection.query(
                """
                WITH previous AS (SELECT interval, burst FROM sparrow_carrier_rate WHERE carrier = \(carrier))
                INSERT INTO sparrow_carrier_rate AS rate (carrier, tat, interval, burst)
                VALUES (\(carrier), 0, \(rate.interval), \(rate.burst))
                ON CONFLICT (carrier) DO UPDATE SET interval = excluded.interval, burst = excluded.burst
                RETURNING tat, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
                    (SELECT interval FROM previous), (SELECT burst FROM previous)
                """, logger: logger)
            var found: (tat: Int64, now: Int64, interval: Int64?, burst: Int?)?
            for try await row in rows.decode((Int64, Int64, Int64?, Int?).self) { found = row }
            guard let stored = found else {
                throw StoreError(database.location, message: "carrier \(carrier)'s rate row came back empty")
            }
            if let interval = stored.interval, let burst = stored.burst,
                interval != rate.interval || burst != rate.burst
            {
                warnOnce(carrier, theirs: (interval, burst), ours: rate)
            }
            let (lease, tat) = rate.lease(
                wanted, minimum: minimum, tat: stored.tat, now: stored.now, horizon: horizon)
            if tat != stored.tat {
                try await connection.query(
                    "UPDATE sparrow_carrier_rate SET tat = \(tat) WHERE carrier = \(carrier)", logger: logger)
            }
            return lease
        }
    }

    private func warnOnce(_ carrier: String, theirs: (interval: Int64, burst: Int), ours: SharedRate) {
        guard warned.carriers.withLock({ $0.insert(carrier).inserted }) else { return }
        func rate(_ interval: Int64) -> String { "\(1_000_000 / Double(interval))" }
        database.logger.warning(
            "another process shares this carrier's rate with another rate or burst: they must agree",
            metadata: [
                "carrier": "\(carrier)", "rate": "\(rate(ours.interval))", "burst": "\(ours.burst)",
                "other.rate": "\(rate(theirs.interval))", "other.burst": "\(theirs.burst)",
            ])
    }
}
