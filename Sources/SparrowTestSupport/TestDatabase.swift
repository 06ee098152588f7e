import Foundation
public import Logging
import PostgresNIO
public import SparrowPostgres

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

    /// Runs `body` with a location naming a new, empty database, and drops that database after.
    public static func withFresh<Result: Sendable>(_ body: (PostgresLocation) async throws -> Result) async throws
        -> Result
    {
        guard let url else { throw Unset() }
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin(url, "CREATE DATABASE \(name)")
        do {
            let result = try await body(
                try PostgresLocation(replacingDatabase(of: url, with: name) + "?sslmode=disable"))
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

    private static func replacingDatabase(of url: String, with name: String) -> String {
        var parts = URLComponents(string: url)!
        parts.path = "/" + name
        parts.query = nil
        return parts.string!
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
