import Foundation
import GRDB
import PostgresNIO
import SparrowCore
import SparrowTestSupport
import Testing

@testable import SparrowPostgres
@testable import SparrowStore

/// Runs `body` with a new, empty store of `kind`: a SQLite file in a folder of its own, or a PostgreSQL database
/// created for it and dropped after.
func withStore<Result: Sendable>(
    _ kind: StoreKind, _ body: (any CampaignStore) async throws -> Result
) async throws -> Result {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-store-\(UUID().uuidString)")
    return try await kind.withNew(in: folder) { _, open in try await open(body) }
}

/// Runs `body` with a new, empty flow store of `kind`.
func withFlowStore<Result: Sendable>(
    _ kind: StoreKind, _ body: (any FlowStore) async throws -> Result
) async throws -> Result {
    try await withStore(kind) { store in try await body(try #require(store as? any FlowStore)) }
}

/// The flow timers `store` keeps, as `RULE ORDER STEP STATE REASON` (`-` for none), in the order they were set.
func flowTimers(_ store: any FlowStore) async throws -> [String] {
    try await texts(
        of: store,
        sqlite:
            "SELECT rule || ' ' || orderID || ' ' || step || ' ' || state || ' ' || IFNULL(reason, '-') FROM flow_timer ORDER BY id",
        postgres: """
            SELECT rule || ' ' || order_id || ' ' || step || ' ' || state || ' ' || coalesce(reason, '-')
            FROM sparrow_flow_timer ORDER BY id
            """)
}

/// The receipts `store` keeps as matching nothing yet, as `GATEWAY ID STATE`, oldest first.
func unmatchedReceipts(_ store: any CampaignStore) async throws -> [String] {
    try await texts(
        of: store,
        sqlite: "SELECT gateway || ' ' || gatewayMessageID || ' ' || state FROM unmatched_receipt ORDER BY rowid",
        postgres:
            "SELECT gateway || ' ' || gateway_message_id || ' ' || state FROM sparrow_unmatched_receipt ORDER BY id")
}

/// What a query of one text column reads from `store`: `sqlite` on a SQLite store, `postgres` on PostgreSQL.
private func texts(of store: any CampaignStore, sqlite: String, postgres: String) async throws -> [String] {
    switch store {
    case let file as SQLiteStore:
        return try await file.pool.read { db in try String.fetchAll(db, sql: sqlite) }
    case let database as PostgresStore:
        return try await database.database.connection { connection in
            var texts: [String] = []
            for try await text in try await connection.query(
                PostgresQuery(unsafeSQL: postgres), logger: TestDatabase.logger
            )
            .decode(String.self) {
                texts.append(text)
            }
            return texts
        }
    default:
        Issue.record("no reader of \(type(of: store))'s tables")
        return []
    }
}
