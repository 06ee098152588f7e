public import Foundation
public import Logging
import PostgresNIO
public import SparrowPostgres
public import SparrowStore

/// The throw-away PostgreSQL cluster `scripts/with-postgres.sh` starts (`make test` runs the suite under it): each
/// test gets a database of its own, created for it and dropped after.
public enum TestDatabase {
    /// The cluster's database, from `SPARROW_TEST_POSTGRES_URL`; nil outside `scripts/with-postgres.sh`.
    public static let url = ProcessInfo.processInfo.environment["SPARROW_TEST_POSTGRES_URL"]

    /// Quiet but for warnings: the pool tells of each connection it fails to open at `info`.
    public static let logger = {
        var logger = Logger(label: "sparrow-postgres-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// Runs `body` with a location naming a new database, and drops that database after. The database has Sparrow's
    /// schema, copied from a template migrated once in this process (a migration of its own in every test at once
    /// would load a 2-core machine for seconds); with `empty`, it has nothing.
    public static func withFresh<Result: Sendable>(
        empty: Bool = false, _ body: (PostgresLocation) async throws -> Result
    ) async throws -> Result {
        guard let url else { throw Unset() }
        let name = uniqueName("test")
        try await admin(url, "CREATE DATABASE \(name)" + (empty ? "" : " TEMPLATE \(try await template.value)"))
        do {
            let result = try await body(try location(name, in: url))
            try await admin(url, "DROP DATABASE \(name) WITH (FORCE)")
            return result
        } catch {
            try? await admin(url, "DROP DATABASE \(name) WITH (FORCE)")
            throw error
        }
    }

    /// The tests that need PostgreSQL run outside `scripts/with-postgres.sh`.
    struct Unset: Error, CustomStringConvertible {
        var description: String { "SPARROW_TEST_POSTGRES_URL is not set: run the tests under scripts/with-postgres.sh" }
    }

    /// The database every migrated fresh one copies, made and migrated by the first test that needs it.
    private static let template = Task<String, any Error> {
        guard let url else { throw Unset() }
        let name = uniqueName("template")
        try await admin(url, "CREATE DATABASE \(name)")
        try await PostgresDatabase.with(try location(name, in: url), logger: logger, reachableWithin: .seconds(120)) {
            _ in
        }
        return name
    }

    private static func uniqueName(_ kind: String) -> String {
        "\(kind)_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// The database `name` on the cluster at `url`.
    private static func location(_ name: String, in url: String) throws -> PostgresLocation {
        var parts = URLComponents(string: url)!
        parts.path = "/" + name
        parts.query = nil
        return try PostgresLocation(parts.string! + "?sslmode=disable")
    }

    /// Runs one statement on the cluster's own database.
    private static func admin(_ url: String, _ sql: String) async throws {
        let location = try PostgresLocation(url + "?sslmode=disable")
        let client = PostgresClient(configuration: location.configuration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }
}

/// The stores behind `CampaignStore`, for tests that run against each: a real SQLite file, and a real PostgreSQL
/// database when the tests run under `scripts/with-postgres.sh` (as `make test` runs them).
public enum StoreKind: String, Sendable, CaseIterable {
    case sqlite, postgres

    /// Both when PostgreSQL is at hand, else SQLite alone.
    public static let available: [StoreKind] = TestDatabase.url == nil ? [.sqlite] : [.sqlite, .postgres]

    /// Runs `body` with the `store:` value of a new, empty store of this kind (a file in `folder`, or a database
    /// created for it and dropped after) and a way to open that store from the test.
    public func withNew<Result: Sendable>(
        in folder: URL, _ body: (_ location: String, _ open: StoreOpener) async throws -> Result
    ) async throws -> Result {
        switch self {
        case .sqlite:
            let path = folder.appendingPathComponent("state.sqlite").path
            return try await body(path, StoreOpener(location: .file(path)))
        case .postgres:
            return try await TestDatabase.withFresh { location in
                try await body(location.description + "?sslmode=disable", StoreOpener(location: .database(location)))
            }
        }
    }
}

/// Opens a test's store, of either kind, for as long as a body runs.
public struct StoreOpener: Sendable {
    enum Location: Sendable {
        case file(String)
        case database(PostgresLocation)
    }

    let location: Location

    public func callAsFunction<Result: Sendable>(_ body: (any CampaignStore) async throws -> Result) async throws
        -> Result
    {
        switch location {
        case .file(let path):
            return try await body(try SQLiteStore(path: path))
        case .database(let location):
            return try await PostgresDatabase.with(location, logger: TestDatabase.logger) { database in
                try await body(PostgresStore(database))
            }
        }
    }
}
