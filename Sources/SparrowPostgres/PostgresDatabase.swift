public import Logging
import PostgresNIO

/// A PostgreSQL database that several Sparrow workers share: a pool of connections to it, its schema migrated.
public struct PostgresDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// Where it is, for messages.
    public let location: PostgresLocation

    /// Connects to the database at `location`, migrates its schema, runs `body` with it, and closes its
    /// connections when `body` returns or throws.
    /// - Parameter reachableWithin: how long to try to reach the database and migrate it before giving up; later,
    ///   a call that cannot reach it waits while the pool connects again, and fails after about a minute without a
    ///   connection (postgres-nio's pool gives up then), or when its task is cancelled.
    /// - Throws: `PostgresStoreError` when the database cannot be reached in time or its schema cannot be migrated;
    ///   what `body` throws.
    public static func with<Result: Sendable>(
        _ location: PostgresLocation, logger: Logger, reachableWithin: Duration = .seconds(10),
        _ body: (PostgresDatabase) async throws -> Result
    ) async throws -> Result {
        let client = PostgresClient(configuration: location.configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }  // closes the pool
            let database = PostgresDatabase(client: client, logger: logger, location: location)
            let migrated = try await withThrowingTaskGroup(of: Bool.self) { race in
                race.addTask {
                    try await database.migrate()
                    return true
                }
                race.addTask {
                    try await Task.sleep(for: reachableWithin)
                    return false
                }
                defer { race.cancelAll() }
                return try await race.next()!
            }
            guard migrated else {
                throw PostgresStoreError(
                    location,
                    message:
                        "cannot be reached within \(reachableWithin) (is it running, and does it let this user in?)")
            }
            return try await body(database)
        }
    }

    /// Runs `work` in one transaction; PostgreSQL's errors come out as `PostgresStoreError`.
    func transaction<Result: Sendable>(
        _ work: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { try await work($0) }
        } catch {
            if Task.isCancelled { throw CancellationError() }  // postgres-nio's own error for a cancelled wait
            throw PostgresStoreError(location, error)
        }
    }

    /// The schema's versions, in order: each is applied once, in a transaction of its own, by whichever process
    /// gets there first (the others wait on an advisory lock, then find it applied).
    static let migrations: [String] = [
        // One carrier's rate over every worker: GCRA's theoretical arrival time, in microseconds on the database's
        // clock (`SharedRate`).
        "CREATE TABLE sparrow_carrier_rate (carrier text PRIMARY KEY, tat bigint NOT NULL)",
        // The interval and burst of the rate's last lease, to tell processes that disagree about it.
        "ALTER TABLE sparrow_carrier_rate ADD COLUMN interval bigint, ADD COLUMN burst integer",
    ]

    private func migrate() async throws {
        try await transaction { connection in
            // Any fixed key: it serialises Sparrow's migrations, and nothing else takes it.
            try await connection.query("SELECT pg_advisory_xact_lock(7370262711)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS sparrow_schema (version integer PRIMARY KEY)", logger: logger)
            var applied = 0
            for try await version in try await connection.query(
                "SELECT coalesce(max(version), 0) FROM sparrow_schema", logger: logger
            ).decode(Int.self) {
                applied = version
            }
            guard applied <= Self.migrations.count else {
                throw PostgresStoreError(
                    location,
                    message: "its schema is version \(applied), newer than this Sparrow's \(Self.migrations.count)")
            }
            for (index, migration) in Self.migrations.enumerated().dropFirst(applied) {
                try await connection.query(PostgresQuery(unsafeSQL: migration), logger: logger)
                try await connection.query("INSERT INTO sparrow_schema (version) VALUES (\(index + 1))", logger: logger)
            }
        }
    }
}

/// A PostgreSQL database that failed Sparrow: where, and what its server said (or why it could not be reached).
public struct PostgresStoreError: Error, CustomStringConvertible {
    public let location: String
    public let message: String
    /// The server's SQLSTATE, when the server answered.
    public let sqlState: String?

    init(_ location: PostgresLocation, message: String, sqlState: String? = nil) {
        self.location = location.description
        self.message = message
        self.sqlState = sqlState
    }

    init(_ location: PostgresLocation, _ error: PSQLError) {
        if let server = error.serverInfo, let message = server[.message] {
            self.init(location, message: message, sqlState: server[.sqlState])
        } else {
            self.init(location, message: "\(error.code)" + (error.underlying.map { ": \($0)" } ?? ""))
        }
    }

    /// Any error of postgres-nio's: a server's (its message and SQLSTATE), a transaction's (its cause), the
    /// connection pool's (it cannot connect, say).
    init(_ location: PostgresLocation, _ error: any Error) {
        switch error {
        case let store as PostgresStoreError:
            self = store
        case let psql as PSQLError:
            self.init(location, psql)
        case let transaction as PostgresTransactionError:
            let cause =
                transaction.closureError ?? transaction.commitError ?? transaction.beginError
                ?? transaction.rollbackError
            if let cause {
                self.init(location, cause)
            } else {
                self.init(location, message: "the transaction failed")
            }
        default:
            self.init(location, message: "\(error)")
        }
    }

    public var description: String {
        "\(location): \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }
}
