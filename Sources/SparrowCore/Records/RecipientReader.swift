/// The input formats of a recipient file.
public enum RecipientFormat: String, Sendable, CaseIterable {
    case csv, jsonl
}

/// What the reader makes of one record: a row to plan or a reject, each with the record as written (borrowed:
/// valid only during the callback).
public enum RecipientInput {
    case row(RecipientRow, raw: UnsafeBufferPointer<UInt8>)
    case rejected(RowRejection, raw: UnsafeBufferPointer<UInt8>)
}

/// Turns a recipient file's bytes, fed in chunks, into rows: CSV with a header row or JSON Lines, detected from the
/// first byte (`{` means JSON Lines) unless given. Memory stays within one record whatever the file's length.
///
/// Column names `phone`, `to`, `mobile`, `tz`, `region` and `carrier` are matched without regard to case and
/// handed on in lower case; other columns keep their names as template variables. Empty values are left out.
public struct RecipientReader {
    /// Columns that steer the plan rather than only fill the template.
    public static let reservedColumns: Set<String> = ["phone", "to", "mobile", "tz", "region", "carrier"]
    static let phoneColumns: Set<String> = ["phone", "to", "mobile"]

    private var format: RecipientFormat?
    private var csv: CSVParser
    private var lines: LineSplitter
    private var header: [String]?
    /// Bytes held back until the format is known.
    private var leading: [UInt8] = []

    public init(format: RecipientFormat? = nil, maxRowBytes: Int = 64 * 1024) {
        self.format = format
        csv = CSVParser(maxRecordBytes: maxRowBytes)
        lines = LineSplitter(maxLineBytes: maxRowBytes)
    }

    /// Parses `bytes`, calling `emit` for every row or reject completed; pass `isFinal` with the last chunk.
    /// - Throws: `InputFileError` when the file cannot be read at all (no header, no phone column), or
    ///   what `emit` throws.
    public mutating func consume(
        _ bytes: ArraySlice<UInt8>, isFinal: Bool, emit: (RecipientInput) throws -> Void
    ) throws {
        try bytes.withUnsafeBufferPointer { try consume($0, isFinal: isFinal, emit: emit) }
    }

    /// Parses `bytes`; see `consume(_:isFinal:emit:)`.
    public mutating func consume(
        _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, emit: (RecipientInput) throws -> Void
    ) throws {
        if format != nil {
            try feed(bytes, isFinal: isFinal, emit: emit)
        } else {
            leading.append(contentsOf: bytes)
            guard detectFormat(isFinal: isFinal) else { return }
            let held = leading
            leading = []
            try held.withUnsafeBufferPointer { try feed($0, isFinal: isFinal, emit: emit) }
        }
        if isFinal, format == .csv, header == nil {
            throw InputFileError(line: 1, message: "the file is empty: a CSV file needs a header row")
        }
    }

    /// Decides the format from the first meaningful byte held back; false while there is none yet.
    private mutating func detectFormat(isFinal: Bool) -> Bool {
        if let isJSONLines = TabularInput.isJSONLines(leading) {
            format = isJSONLines ? .jsonl : .csv
        } else if isFinal || leading.count > csv.maxRecordBytes {
            format = .csv  // blank input is read as CSV (and then has no header); blankness is never held unbounded
        }
        return format != nil
    }

    private mutating func feed(
        _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, emit: (RecipientInput) throws -> Void
    ) throws {
        switch format {
        case .csv:
            var parser = csv  // moved out, so that rows can be handed on while it runs (and its buffers stay unique)
            csv = CSVParser(maxRecordBytes: parser.maxRecordBytes)
            defer { csv = parser }
            try parser.consume(bytes, isFinal: isFinal) { try csvRecord($0, emit: emit) }
        case .jsonl:
            try lines.consume(bytes, isFinal: isFinal) { line, bytes, overlong in
                try Self.jsonLine(line, bytes, overlong, emit: emit)
            }
        case nil:
            preconditionFailure("feed before the format is known")
        }
    }

    private mutating func csvRecord(_ record: borrowing CSVRecord, emit: (RecipientInput) throws -> Void) throws {
        guard let header else {
            guard !record.isOverlong else {
                throw InputFileError(line: record.line, message: "the header row is longer than the row limit")
            }
            let names = record.fields.map { field in
                let name = String(decoding: field, as: UTF8.self).trimmingASCIISpaces
                return Self.reservedColumns.contains(name.lowercased()) ? name.lowercased() : name
            }
            guard names.contains(where: Self.phoneColumns.contains) else {
                throw InputFileError(
                    line: record.line, message: "the header has no phone column (phone, to or mobile)")
            }
            self.header = names
            return
        }
        func reject(_ reason: RejectReason, _ message: String) throws {
            try emit(.rejected(RowRejection(line: record.line, reason: reason, message: message), raw: record.raw))
        }
        if record.isOverlong {
            return try reject(.rowTooLong, "the row is longer than \(csv.maxRecordBytes) bytes")
        }
        var row = RowBuilder(header: header)
        for (index, field) in record.fields.enumerated() {
            guard index < header.count else {
                if field.isEmpty { continue }
                return try reject(
                    .malformedRow, "the row has \(record.fields.count) fields; the header has \(header.count)")
            }
            guard !field.isEmpty else { continue }
            guard let value = field.validatedUTF8String else {
                return try reject(.invalidUTF8, "column '\(header[index])' is not valid UTF-8")
            }
            row.add(column: index, value)
        }
        try emit(.row(row.row(line: record.line), raw: record.raw))
    }

    private static func jsonLine(
        _ line: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ overlong: Bool, emit: (RecipientInput) throws -> Void
    ) throws {
        let members: [(key: String, value: String)]
        do {
            guard let read = try TabularInput.members(line: line, bytes, overlong: overlong) else { return }
            members = read
        } catch {
            return try emit(.rejected(error, raw: bytes))
        }
        var row = RowBuilder(capacity: members.count)
        for (key, value) in members where !value.isEmpty {
            row.add(reservedColumns.contains(key.lowercased()) ? key.lowercased() : key, value)
        }
        try emit(.row(row.row(line: line), raw: bytes))
    }
}

/// Collects a row's values and picks out the steering columns as they go by, so the planner needs no lookups.
private struct RowBuilder {
    var names: [String]
    var values: [String]
    var phone: String?
    var phoneRank = Int.max
    var timeZone: String?
    var region: String?
    var carrier: String?

    /// A CSV row: a value for each of the header's columns, empty until its field is added.
    init(header: [String]) {
        names = header
        values = Array(repeating: "", count: header.count)
    }

    /// A JSON row: each value comes with its name.
    init(capacity: Int) {
        names = []
        values = []
        names.reserveCapacity(capacity)
        values.reserveCapacity(capacity)
    }

    /// Adds the non-empty value of the header's column `index`.
    mutating func add(column index: Int, _ value: String) {
        values[index] = value
        steer(names[index], value)
    }

    /// Adds a non-empty value with its name.
    mutating func add(_ name: String, _ value: String) {
        names.append(name)
        values.append(value)
        steer(name, value)
    }

    /// Picks out a steering column; `name` is already lower case when it is one.
    private mutating func steer(_ name: String, _ value: String) {
        switch name {
        case "phone", "to", "mobile":
            let rank = name == "phone" ? 0 : name == "to" ? 1 : 2
            if rank < phoneRank { (phone, phoneRank) = (value, rank) }
        case "tz": timeZone = value
        case "region": region = value
        case "carrier": carrier = value
        default: break
        }
    }

    func row(line: Int) -> RecipientRow {
        RecipientRow(
            line: line, values: TemplateValues(names: names, values: values), phone: phone, timeZone: timeZone,
            region: region, carrier: carrier)
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The bytes as a string, or nil when they are not valid UTF-8.
    ///
    /// Decoding repairs each invalid sequence with U+FFFD, so the bytes come back unchanged exactly when they were
    /// valid. This avoids `String(validating:as:)`, which is generic over the encoding and looks up type metadata on
    /// every call, a cost paid on every non-ASCII field.
    var validatedUTF8String: String? {
        var string = String(decoding: self, as: UTF8.self)
        guard contains(where: { $0 >= 0x80 }) else { return string }
        return string.withUTF8 { $0.elementsEqual(self) } ? string : nil
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces and tabs.
    var trimmingASCIISpaces: String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 })!
        return first == bytes.startIndex && bytes.index(after: last) == bytes.endIndex
            ? self : String(self[first...last])
    }
}
