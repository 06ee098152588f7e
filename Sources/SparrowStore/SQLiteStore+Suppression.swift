import GRDB
public import SparrowCore

// The suppression list and the frequency cap's numbers.
extension SQLiteStore {
    public func suppress(_ numbers: [UInt64]) async throws {
        let sorted = numbers.sorted()  // in key order, each B-tree page is written once per batch
        try await write { db in
            let statement = try db.cachedStatement(sql: "INSERT OR IGNORE INTO suppression (number) VALUES (?)")
            for number in sorted { try statement.execute(arguments: [Int64(number)]) }
        }
    }

    public func unsuppress(_ numbers: [UInt64]) async throws {
        try await write { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM suppression WHERE number = ?")
            for number in numbers { try statement.execute(arguments: [Int64(number)]) }
        }
    }

    public func suppressedNumbers() async throws -> [UInt64] {
        try await read { db in
            try Self.numbers(db, sql: "SELECT number FROM suppression ORDER BY number") { _ in }
        }
    }

    public func suppressed(among numbers: [UInt64]) async throws -> Set<UInt64> {
        guard !numbers.isEmpty else { return [] }
        let list = "[" + numbers.map(String.init).joined(separator: ",") + "]"
        return try await read { db in
            Set(
                try Self.numbers(
                    db, sql: "SELECT number FROM suppression WHERE number IN (SELECT value FROM json_each(?))"
                ) { values in values.bind(list) })
        }
    }

    public func cappedNumbers(since: Timestamp, excluding campaign: String?, sends: Int) async throws -> [UInt64] {
        try await read { db in
            try Self.numbers(
                db,
                sql: """
                    SELECT number FROM send WHERE sentAt >= ?1 AND IFNULL(campaignID, '') != ?2
                    AND IFNULL(campaignID, '') NOT IN (SELECT id FROM campaign WHERE transactional)
                    GROUP BY number HAVING COUNT(*) >= ?3 ORDER BY number
                    """
            ) { values in
                values.bind(since.secondsSince1970)
                values.bind(campaign ?? "")
                values.bind(sends)
            }
        }
    }

    /// The numbers a query's first column returns, read straight from SQLite: a send's start reads a million of them.
    private static func numbers(
        _ db: Database, sql: String, _ bind: (inout HotStatement.Bindings) -> Void
    ) throws -> [UInt64] {
        var numbers: [UInt64] = []
        try HotStatement(db, sql: sql).rows(bind) { row in numbers.append(UInt64(bitPattern: row.int64(0))) }
        return numbers
    }
}
