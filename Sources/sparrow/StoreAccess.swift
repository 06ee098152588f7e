import Foundation
import Logging
import SparrowConfig
import SparrowCore
import SparrowPostgres
import SparrowStore

/// Runs `body` with the configured store: the SQLite file (made if missing), or the PostgreSQL database (reached and
/// migrated first, its connections closed when `body` ends).
func withStore<Result: Sendable>(
    _ configuration: SparrowConfiguration, _ body: (any CampaignStore) async throws -> Result
) async throws -> Result {
    try await withFlowStore(configuration) { try await body($0) }
}

/// `withStore`, with the store as lifecycle flows use it: every store keeps their events and timers.
func withFlowStore<Result: Sendable>(
    _ configuration: SparrowConfiguration, _ body: (any FlowStore) async throws -> Result
) async throws -> Result {
    switch configuration.store {
    case .file(let path):
        return try await body(try openSQLiteStore(path))
    case .postgres(let url):
        return try await withDatabase(url, key: "store") { try await body(PostgresStore($0)) }
    }
}

/// Runs `body` with the configured PostgreSQL store, which workers share.
/// - Throws: `UsageError` when the store is a file.
func withSharedStore<Result: Sendable>(
    _ configuration: SparrowConfiguration, _ body: (PostgresStore) async throws -> Result
) async throws -> Result {
    guard case .postgres(let url) = configuration.store else {
        throw UsageError(
            message: "\(configuration.file): workers share a PostgreSQL store: set store to a postgres:// URL")
    }
    return try await withDatabase(url, key: "store") { try await body(PostgresStore($0)) }
}

/// Opens (creating it) the SQLite store at `path`.
private func openSQLiteStore(_ path: String) throws -> SQLiteStore {
    do {
        return try SQLiteStore(path: path)
    } catch {
        throw RuntimeFailure(message: "store \(error)")
    }
}

/// Runs `body` with the configured store if there is one to read: nil for a SQLite file not made yet (commands that
/// only read the store never make one).
func withExistingStore<Result: Sendable>(
    _ configuration: SparrowConfiguration, _ body: ((any CampaignStore)?) async throws -> Result
) async throws -> Result {
    if case .file(let path) = configuration.store, !FileManager.default.fileExists(atPath: path) {
        return try await body(nil)
    }
    return try await withStore(configuration) { try await body($0) }
}

/// Runs `body` with the carriers' rates shared through the database the configuration names (`shared_rates`), or
/// with none: then each carrier's rate is this process's alone.
func withSharedRates<Result: Sendable>(
    _ configuration: SparrowConfiguration, _ body: (SharedRates?) async throws -> Result
) async throws -> Result {
    guard let url = configuration.sharedRates else { return try await body(nil) }
    return try await withDatabase(url, key: "shared_rates") { try await body(SharedRates($0)) }
}

/// Runs `body` with the database at `url`. A failure to reach or migrate it is told under the configuration's `key`;
/// what `body` throws comes out as it is.
private func withDatabase<Result: Sendable>(
    _ url: PostgresURL, key: String, _ body: (PostgresDatabase) async throws -> Result
) async throws -> Result {
    do {
        return try await PostgresDatabase.with(PostgresLocation(url), logger: Logger(label: "sparrow")) { database in
            do {
                return try await body(database)
            } catch {
                throw Passed(error: error)
            }
        }
    } catch let passed as Passed {
        throw passed.error
    } catch let error as StoreError {
        throw RuntimeFailure(message: "\(key): \(error)")
    }
}

/// An error of the body of `withDatabase`, carried out past its wrapping.
private struct Passed: Error {
    var error: any Error
}

/// Runs `body` while this process holds `campaign` in `store`: two processes running one campaign would both send
/// its unanswered messages.
/// - Throws: `UsageError` when another process holds it.
func holdingCampaign<Result: Sendable>(
    _ campaign: String, in store: any CampaignStore, _ body: () async throws -> Result
) async throws -> Result {
    switch store {
    case let postgres as PostgresStore:
        guard let result = try await postgres.holding(campaign: campaign, body) else {
            throw UsageError(
                message: "campaign '\(campaign)' is being run by another process; wait for it or stop it first")
        }
        return result
    case let sqlite as SQLiteStore:
        let lock = try CampaignLock(store: sqlite.path, campaign: campaign)
        defer { lock.release() }
        return try await body()
    default:
        preconditionFailure("no lock for a store of type \(type(of: store))")
    }
}
