import Foundation
import GRDB
import PostgresNIO
import SparrowCore
import SparrowTestSupport
import Testing

@testable import SparrowPostgres
@testable import SparrowStore

/// The stores behind `CampaignStore`: the contract tests run against each, a real SQLite file and a real PostgreSQL
/// database (when the tests run under `scripts/with-postgres.sh`, as `make test` runs them).
enum StoreKind: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static let available: [StoreKind] = TestDatabase.url == nil ? [.sqlite] : [.sqlite, .postgres]

    var testDescription: String { rawValue }
}

/// Runs `body` with a new, empty store of `kind`: a SQLite file in a folder of its own, or a PostgreSQL database
/// created for it and dropped after.
func withStore<Result: Sendable>(
    _ kind: StoreKind, _ body: (any CampaignStore) async throws -> Result
) async throws -> Result {
    switch kind {
    case .sqlite:
        return try await body(try freshStore().0)
    case .postgres:
        return try await TestDatabase.withFresh { location in
            try await PostgresDatabase.with(location, logger: TestDatabase.logger) { database in
                try await body(PostgresStore(database))
            }
        }
    }
}

/// The receipts `store` keeps as matching nothing yet, as `GATEWAY ID STATE`, oldest first.
func unmatchedReceipts(_ store: any CampaignStore) async throws -> [String] {
    switch store {
    case let sqlite as SQLiteStore:
        return try await sqlite.pool.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT gateway || ' ' || gatewayMessageID || ' ' || state FROM unmatched_receipt ORDER BY rowid")
        }
    case let postgres as PostgresStore:
        return try await postgres.database.connection { connection in
            var receipts: [String] = []
            for try await receipt in try await connection.query(
                """
                SELECT gateway || ' ' || gateway_message_id || ' ' || state FROM sparrow_unmatched_receipt ORDER BY id
                """, logger: TestDatabase.logger
            ).decode(String.self) {
                receipts.append(receipt)
            }
            return receipts
        }
    default:
        Issue.record("no reader of \(type(of: store))'s unmatched receipts")
        return []
    }
}
