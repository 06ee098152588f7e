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
    switch store {
    case let sqlite as SQLiteStore:
        return try await sqlite.pool.read { db in
            try String.fetchAll(
                db,
                sql:
                    "SELECT rule || ' ' || orderID || ' ' || step || ' ' || state || ' ' || IFNULL(reason, '-') FROM flow_timer ORDER BY id"
            )
        }
    case let postgres as PostgresStore:
        return try await postgres.database.connection { connection in
            var timers: [String] = []
            for try await timer in try await connection.query(
                """
                SELECT rule || ' ' || order_id || ' ' || step || ' ' || state || ' ' || coalesce(reason, '-')
                FROM sparrow_flow_timer ORDER BY id
                """, logger: TestDatabase.logger
            ).decode(String.self) {
                timers.append(timer)
            }
            return timers
        }
    default:
        Issue.record("no reader of \(type(of: store))'s flow timers")
        return []
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
