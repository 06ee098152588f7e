import PostgresNIO
public import SparrowCore

/// Carriers' rates shared by every worker through the database: one GCRA value per carrier, leased in units with
/// their spans of use (`SharedRate`), read and moved on in one transaction against the database's clock.
///
/// A worker's death loses the units it leased and did not use, which is the safe side: the others never send more
/// for it. When the database cannot be reached, nothing is leased: a lease waits, or fails, and never grants.
public struct SharedRates: Sendable {
    let database: PostgresDatabase

    public init(_ database: PostgresDatabase) {
        self.database = database
    }

    /// Leases up to `wanted` units of `carrier`'s `rate` due within `horizon` from now, and `minimum` of them however
    /// far ahead (`SharedRate.lease`). Four round trips: the row is locked by the first statement and written by the
    /// second, and the clock is read after the lock, so `now` never trails a lease granted while this one waited.
    /// - Throws: `PostgresStoreError`; `CancellationError` when cancelled while it waits for a connection.
    public func lease(
        _ wanted: Int, minimum: Int = 0, of carrier: String, at rate: SharedRate, horizon: Duration
    ) async throws -> RateLease {
        let logger = database.logger
        let horizon = Int64(horizon / .microseconds(1))
        return try await database.transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO sparrow_carrier_rate AS rate (carrier, tat) VALUES (\(carrier), 0)
                ON CONFLICT (carrier) DO UPDATE SET tat = rate.tat
                RETURNING tat, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                """, logger: logger)
            var stored: (tat: Int64, now: Int64)?
            for try await row in rows.decode((Int64, Int64).self) { stored = row }
            guard let stored else {
                throw PostgresStoreError(database.location, message: "carrier \(carrier)'s rate row came back empty")
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
}
