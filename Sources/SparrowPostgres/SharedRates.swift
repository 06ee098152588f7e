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

    /// Leases up to `wanted` units of `carrier`'s `rate` due within `horizon` from now.
    /// - Throws: `PostgresStoreError`; `CancellationError` when cancelled while it waits for a connection.
    public func lease(_ wanted: Int, of carrier: String, at rate: SharedRate, horizon: Duration) async throws
        -> RateLease
    {
        let logger = database.logger
        let horizon = Int64(horizon / .microseconds(1))
        return try await database.transaction { connection in
            try await connection.query(
                "INSERT INTO sparrow_carrier_rate (carrier, tat) VALUES (\(carrier), 0) ON CONFLICT DO NOTHING",
                logger: logger)
            // The clock is read after the row is ours: `now` never trails another worker's lease by the time this
            // one waited for the lock (a trailing reading would only hold units back: see `SharedRate.lease`).
            let rows = try await connection.query(
                """
                SELECT tat, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
                FROM (SELECT tat FROM sparrow_carrier_rate WHERE carrier = \(carrier) FOR UPDATE) AS locked
                """, logger: logger)
            var stored: (tat: Int64, now: Int64)?
            for try await row in rows.decode((Int64, Int64).self) { stored = row }
            guard let stored else { preconditionFailure("the carrier's rate row was inserted in this transaction") }
            let (lease, tat) = rate.lease(wanted, tat: stored.tat, now: stored.now, horizon: horizon)
            if tat != stored.tat {
                try await connection.query(
                    "UPDATE sparrow_carrier_rate SET tat = \(tat) WHERE carrier = \(carrier)", logger: logger)
            }
            return lease
        }
    }
}
