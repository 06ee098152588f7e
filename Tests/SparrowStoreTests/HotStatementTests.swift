import GRDB
import GRDBSQLite
import Testing

@testable import SparrowStore

/// `HotStatement` binds through SQLite's C API: what it binds comes back as it went in, a refused bind or step is a
/// thrown error, and the statement is left reset and ready either way.
@Suite struct HotStatementTests {
    /// A database of its own with one table, `t(s TEXT, i INTEGER, d REAL)`.
    private func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { db in try db.execute(sql: "CREATE TABLE t(s TEXT UNIQUE, i INTEGER, d REAL)") }
        return queue
    }

    @Test func boundValuesComeBackAsTheyWentIn() throws {
        try database().write { db in
            let insert = try HotStatement(db, sql: "INSERT INTO t VALUES (?1, ?2, ?3)")
            #expect(
                try insert.execute {
                    $0.bind("您好 ☃"); $0.bind(Int64.max); $0.bind(0.25)
                } == 1)
            #expect(
                try insert.execute {
                    $0.bind(""); $0.bind(nil as Int64?); $0.bind(-1.5)
                } == 1)
            #expect(
                try insert.execute {
                    $0.bind(nil as String?); $0.bind(7); $0.bind(0)
                } == 1)
            var rows: [String] = []
            let select = try HotStatement(db, sql: "SELECT s, i, d FROM t WHERE i IS NULL OR i > ?1 ORDER BY rowid")
            try select.rows({ $0.bind(-1) }) { row in
                let text = row.string(0).map { "'\($0)'" } ?? "NULL"
                rows.append("\(text) \(row.optionalInt64(1).map(String.init) ?? "NULL") \(row.double(2))")
            }
            // An empty string stays a string, not NULL.
            #expect(rows == ["'您好 ☃' \(Int64.max) 0.25", "'' NULL -1.5", "NULL 7 0.0"])
        }
    }

    @Test func aRefusedStepThrowsAndLeavesTheStatementReady() throws {
        try database().write { db in
            let insert = try HotStatement(db, sql: "INSERT INTO t VALUES (?1, ?2, ?3)")
            try insert.execute {
                $0.bind("once"); $0.bind(1); $0.bind(1.0)
            }
            #expect(throws: DatabaseError.self) {
                try insert.execute {
                    $0.bind("once"); $0.bind(2); $0.bind(2.0)
                }
            }
            #expect(
                try insert.execute {
                    $0.bind("twice"); $0.bind(3); $0.bind(3.0)
                } == 1)
        }
    }

    /// A value longer than SQLite takes is refused at the bind: the statement does not run with what was bound
    /// before it.
    @Test func aRefusedBindThrowsBeforeTheStatementRuns() throws {
        try database().write { db in
            sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_LENGTH, 16)
            let insert = try HotStatement(db, sql: "INSERT INTO t VALUES (?1, ?2, ?3)")
            #expect(throws: DatabaseError.self) {
                try insert.execute {
                    $0.bind(String(repeating: "x", count: 64)); $0.bind(1); $0.bind(1.0)
                }
            }
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 0)
            #expect(
                try insert.execute {
                    $0.bind("short"); $0.bind(2); $0.bind(2.0)
                } == 1)
        }
    }
}
