import GRDB
import GRDBSQLite

/// A statement run once per message, with its values bound straight through SQLite's C API.
///
/// GRDB boxes every argument in a `DatabaseValue` and a row in a `Row`, which cost more than SQLite's own work for
/// the journal's few hot statements (a message's insert, its answer, its send). The statement is GRDB's cached one,
/// so GRDB still prepares and finalizes it; it is used only inside a write or read closure, on that connection's
/// queue, and always left reset: after a failed step too, which SQLite allows to run again.
struct HotStatement {
    private let statement: Statement
    private let db: Database

    init(_ db: Database, sql: String) throws {
        self.db = db
        statement = try db.cachedStatement(sql: sql)
    }

    /// Binds what `bind` binds, runs the statement to its end, and returns how many rows it changed.
    @discardableResult
    func execute(_ bind: (inout Bindings) -> Void) throws -> Int {
        try rows(bind) { _ in }
        return db.changesCount
    }

    /// Binds what `bind` binds and runs the statement, passing each row it returns to `row`.
    func rows(_ bind: (inout Bindings) -> Void, _ row: (Columns) throws -> Void) throws {
        let raw = statement.sqliteStatement
        defer { sqlite3_reset(raw) }
        var bindings = Bindings(raw: raw)
        bind(&bindings)
        precondition(
            bindings.count == sqlite3_bind_parameter_count(raw), "bound \(bindings.count) values to: \(statement.sql)")
        if bindings.failure != SQLITE_OK {  // a value too long for SQLite's limit, or no memory to copy it
            throw DatabaseError(
                resultCode: ResultCode(rawValue: bindings.failure),
                message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: statement.sql)
        }
        while true {
            switch sqlite3_step(raw) {
            case SQLITE_DONE: return
            case SQLITE_ROW: try row(Columns(raw: raw))
            case let code:
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code),
                    message: String(cString: sqlite3_errmsg(db.sqliteConnection)),
                    sql: statement.sql)
            }
        }
    }

    /// Values bound to `?1`, `?2`, … in order.
    struct Bindings {
        fileprivate let raw: OpaquePointer
        private var index: Int32 = 0
        /// The first bind SQLite refused, if one was.
        fileprivate private(set) var failure = SQLITE_OK

        fileprivate var count: Int32 { index }

        fileprivate init(raw: OpaquePointer) {
            self.raw = raw
        }

        mutating func bind(_ value: String) {
            index += 1
            var value = value
            value.withUTF8 { bytes in
                // SQLite binds a null pointer as NULL: an empty string needs an address of its own.
                let base =
                    bytes.baseAddress.map { UnsafeRawPointer($0) } ?? UnsafeRawPointer(("" as StaticString).utf8Start)
                record(
                    sqlite3_bind_text(
                        raw, index, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), transient))
            }
        }

        mutating func bind(_ value: String?) {
            guard let value else { return bindNull() }
            bind(value)
        }

        mutating func bind(_ value: Int64) {
            index += 1
            record(sqlite3_bind_int64(raw, index, value))
        }

        mutating func bind(_ value: Int) {
            bind(Int64(value))
        }

        mutating func bind(_ value: Int64?) {
            guard let value else { return bindNull() }
            bind(value)
        }

        mutating func bind(_ value: Double) {
            index += 1
            record(sqlite3_bind_double(raw, index, value))
        }

        private mutating func bindNull() {
            index += 1
            record(sqlite3_bind_null(raw, index))
        }

        private mutating func record(_ code: Int32) {
            if code != SQLITE_OK, failure == SQLITE_OK { failure = code }
        }
    }

    /// The current row's columns, by index from 0.
    struct Columns {
        fileprivate let raw: OpaquePointer

        func string(_ column: Int32) -> String? {
            guard let text = sqlite3_column_text(raw, column) else { return nil }
            let count = Int(sqlite3_column_bytes(raw, column))
            return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
        }

        func int64(_ column: Int32) -> Int64 {
            sqlite3_column_int64(raw, column)
        }

        /// nil for NULL.
        func optionalInt64(_ column: Int32) -> Int64? {
            sqlite3_column_type(raw, column) == SQLITE_NULL ? nil : sqlite3_column_int64(raw, column)
        }

        func double(_ column: Int32) -> Double {
            sqlite3_column_double(raw, column)
        }
    }
}

/// SQLite copies the bytes before the bind returns: Swift's buffer lives only for the call.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
