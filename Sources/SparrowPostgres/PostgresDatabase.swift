public import Logging
import PostgresNIO
import SparrowStore

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
    /// - Throws: `StoreError` when the database cannot be reached in time or its schema cannot be migrated;
    ///   what `body` throws.
    public static func with<Result: Sendable>(
        _ location: PostgresLocation, logger: Logger, reachableWithin: Duration = .seconds(10),
        _ body: (PostgresDatabase) async throws -> Result
    ) async throws -> Result {
        let client = PostgresClient(configuration: location.configuration, backgroundLogger: logger)
        let database = PostgresDatabase(client: client, logger: logger, location: location)
        return try await withThrowingTaskGroup(of: Opening.self) { group in
            // One group for the pool, the migration and the deadline: leaving it cancels the pool's run, which closes
            // its connections and fails the leases waiting for one, so that a migration still waiting on the server
            // ends too. Nothing here waits on a task that only the pool's closing would end.
            defer { group.cancelAll() }
            group.addTask {
                await client.run()
                return .closed
            }
            group.addTask {
                try await database.migrate()
                return .migrated
            }
            group.addTask {
                try await Task.sleep(for: reachableWithin)
                return .late
            }
            guard try await group.next() == .migrated else {  // a migration's own error comes out as it is
                throw StoreError(
                    location, code: .cannotOpen,
                    message:
                        "cannot be reached within \(reachableWithin) (is it running, and does it let this user in?)")
            }
            return try await body(database)
        }
    }

    /// How the first of `with`'s tasks ended.
    private enum Opening: Sendable {
        case migrated, late, closed
    }

    /// Runs `work` in one transaction; PostgreSQL's errors come out as `StoreError`.
    func transaction<Result: Sendable>(
        _ work: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await wrappingErrors { try await client.withTransaction(logger: logger) { try await work($0) } }
    }

    /// Runs `work` on a connection of the pool, outside a transaction (each statement its own), with the errors of
    /// `transaction`.
    func connection<Result: Sendable>(_ work: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await wrappingErrors { try await client.withConnection { try await work($0) } }
    }

    /// Runs one statement on its own, with the errors of `transaction`.
    func execute(_ query: PostgresQuery) async throws {
        try await connection { connection in _ = try await connection.query(query, logger: logger) }
    }

    func wrappingErrors<Result>(_ work: () async throws -> Result) async throws -> Result {
        do {
            return try await work()
        } catch {
            // The store's own refusal comes out as it is, as SQLite's store throws it.
            if let refusal = ((error as? PostgresTransactionError)?.closureError ?? error) as? InputMismatch {
                throw refusal
            }
            if Task.isCancelled { throw CancellationError() }  // postgres-nio's own error for a cancelled wait
            throw StoreError(location, error)
        }
    }

    /// The schema's versions, in order, each a list of statements: each is applied once, in a transaction of its own,
    /// by whichever process gets there first (the others wait on an advisory lock, then find it applied).
    static let migrations: [[String]] = [
        // One carrier's rate over every worker: GCRA's theoretical arrival time, in microseconds on the database's
        // clock (`SharedRate`).
        ["CREATE TABLE sparrow_carrier_rate (carrier text PRIMARY KEY, tat bigint NOT NULL)"],
        // The interval and burst of the rate's last lease, to tell processes that disagree about it.
        ["ALTER TABLE sparrow_carrier_rate ADD COLUMN interval bigint, ADD COLUMN burst integer"],
        PostgresStore.schema,
        PostgresStore.workers,
        PostgresStore.flows,
        PostgresStore.workerRates,
        PostgresStore.claimsWhateverTheClock,
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
                throw StoreError(
                    location,
                    message: "its schema is version \(applied), newer than this Sparrow's \(Self.migrations.count)")
            }
            for (index, migration) in Self.migrations.enumerated().dropFirst(applied) {
                for statement in migration {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO sparrow_schema (version) VALUES (\(index + 1))", logger: logger)
            }
        }
    }
}

extension StoreError {
    /// Any error of postgres-nio's, as the store's: a server's (its message and SQLSTATE, which also gives the code),
    /// a transaction's (its cause), the connection pool's (it cannot connect, say). The statement and its values are
    /// left out, as SQLite's errors leave them out.
    init(_ location: PostgresLocation, _ error: any Error) {
        switch error {
        case let store as StoreError:
            self = store
        case let psql as PSQLError:
            if let server = psql.serverInfo, let message = server[.message] {
                let state = server[.sqlState] ?? ""
                self.init(
                    code: Self.code(sqlState: state), path: location.description,
                    message: "\(message) (SQLSTATE \(state))")
            } else {
                self.init(
                    code: .cannotOpen, path: location.description,
                    message: "\(psql.code)" + (psql.underlying.map { ": \($0)" } ?? ""))
            }
        case let decoding as PostgresDecodingError:  // named without the value, which may be a number
            self.init(
                code: .other, path: location.description,
                message:
                    "column \(decoding.columnName) (\(decoding.postgresType)) cannot be read as \(decoding.targetType)")
        case let transaction as PostgresTransactionError:
            let cause =
                transaction.closureError ?? transaction.commitError ?? transaction.beginError
                ?? transaction.rollbackError
            self =
                cause.map { StoreError(location, $0) }
                ?? StoreError(code: .other, path: location.description, message: "the transaction failed")
        default:
            self.init(code: .other, path: location.description, message: "\(error)")
        }
    }

    init(_ location: PostgresLocation, code: Code = .other, message: String) {
        self.init(code: code, path: location.description, message: message)
    }

    /// The store's code of a SQLSTATE (PostgreSQL's appendix A).
    private static func code(sqlState: String) -> Code {
        switch sqlState {
        case "53100": .full
        case "25006": .readOnly
        case "40001", "40P01", "55P03", "57014": .busy
        case "XX001", "XX002": .corrupt
        case "58030": .io
        case _ where sqlState.hasPrefix("23"): .constraint
        case _ where sqlState.hasPrefix("08") || sqlState.hasPrefix("28") || sqlState == "3D000": .cannotOpen
        default: .other
        }
    }
}
