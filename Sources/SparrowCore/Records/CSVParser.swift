/// One record of a CSV file as the parser hands it out: borrowed bytes, valid only during the callback.
public struct CSVRecord {
    /// The 1-based line of the file on which the record starts.
    public var line: Int
    /// The record as it stood in the file (quotes included, line break excluded), cut at the size limit.
    public var raw: ArraySlice<UInt8>
    /// Each field's unquoted bytes.
    public var fields: [ArraySlice<UInt8>]
    /// The record was longer than the limit: `fields` is empty and `raw` is cut.
    public var isOverlong: Bool
}

/// A streaming RFC 4180 reader over bytes: quoted fields with `""` escapes and embedded line breaks, CRLF, LF or
/// CR line ends, a leading UTF-8 BOM skipped, blank lines skipped. It never buffers more than one record, and a
/// record over `maxRecordBytes` is reported as over-long (and skipped to its end) instead of growing memory.
///
/// Feed it chunks as they arrive and once more with `isFinal: true`:
/// ```swift
/// var parser = CSVParser()
/// parser.consume(chunk, isFinal: false) { record in … }
/// parser.consume([], isFinal: true) { record in … }
/// ```
public struct CSVParser {
    public let maxRecordBytes: Int

    private enum State { case fieldStart, unquoted, quoted, quoteInQuoted, afterCR }
    private var state = State.fieldStart
    private var stateBeforeCR = State.fieldStart
    private var raw: [UInt8] = []
    private var value: [UInt8] = []
    private var fieldEnds: [Int] = []
    private var line = 1
    private var recordLine = 1
    private var overlong = false
    private var atFileStart = true
    private var bomCheck: [UInt8] = []

    public init(maxRecordBytes: Int = 64 * 1024) {
        self.maxRecordBytes = maxRecordBytes
    }

    /// Parses `bytes`, calling `emit` for every record completed. With `isFinal`, a last record without a line
    /// break is completed too.
    public mutating func consume(
        _ bytes: ArraySlice<UInt8>, isFinal: Bool, emit: (borrowing CSVRecord) throws -> Void
    ) rethrows {
        try bytes.withUnsafeBufferPointer { try consume($0, isFinal: isFinal, emit: emit) }
    }

    /// Parses `bytes`; see `consume(_:isFinal:emit:)`.
    public mutating func consume(
        _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, emit: (borrowing CSVRecord) throws -> Void
    ) rethrows {
        for byte in bytes {
            if atFileStart {
                bomCheck.append(byte)
                let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
                if bomCheck.count < 3, bom.starts(with: bomCheck) { continue }
                atFileStart = false
                let pending = bomCheck == bom ? [] : bomCheck
                bomCheck = []
                for early in pending {
                    try step(early, emit: emit)
                }
                continue
            }
            try step(byte, emit: emit)
        }
        if isFinal {
            if atFileStart {
                atFileStart = false
                let pending = bomCheck
                bomCheck = []
                for early in pending where pending != [0xEF, 0xBB, 0xBF] {
                    try step(early, emit: emit)
                }
            }
            if state == .afterCR {
                state = stateBeforeCR
            }
            if !raw.isEmpty || !fieldEnds.isEmpty || state == .quoted {
                try endRecord(emit: emit)
            }
        }
    }

    @inline(__always)
    private mutating func step(_ byte: UInt8, emit: (borrowing CSVRecord) throws -> Void) rethrows {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        if state == .afterCR {
            state = stateBeforeCR
            if byte == lf {
                line += 1
                try lineBreak(emit: emit)
                return
            }
            line += 1  // a lone CR ends the line too
            try lineBreak(emit: emit)
        }
        switch state {
        case .quoted:
            if byte == quote {
                state = .quoteInQuoted
            } else {
                if byte == lf { line += 1 }
                appendValue(byte)
            }
            appendRaw(byte)
        case .quoteInQuoted:
            if byte == quote {  // "" is a quote inside the field
                appendValue(byte)
                appendRaw(byte)
                state = .quoted
                return
            }
            state = .unquoted  // the field's closing quote: what follows up to the delimiter is kept as written
            try step(byte, emit: emit)
        case .fieldStart, .unquoted:
            switch byte {
            case comma:
                endField()
                appendRaw(byte)
                state = .fieldStart
            case lf:
                line += 1
                try lineBreak(emit: emit)
            case cr:
                stateBeforeCR = state
                state = .afterCR
            case quote where state == .fieldStart:
                state = .quoted
                appendRaw(byte)
            default:
                state = .unquoted
                appendValue(byte)
                appendRaw(byte)
            }
        case .afterCR:
            preconditionFailure("handled above")
        }
    }

    private mutating func lineBreak(emit: (borrowing CSVRecord) throws -> Void) rethrows {
        if raw.isEmpty && fieldEnds.isEmpty && !overlong {
            recordLine = line  // a blank line
            state = .fieldStart
            return
        }
        try endRecord(emit: emit)
    }

    @inline(__always)
    private mutating func appendValue(_ byte: UInt8) {
        if !overlong { value.append(byte) }
    }

    @inline(__always)
    private mutating func appendRaw(_ byte: UInt8) {
        if raw.count < maxRecordBytes {
            raw.append(byte)
        } else {
            overlong = true
        }
    }

    private mutating func endField() {
        fieldEnds.append(value.count)
    }

    private mutating func endRecord(emit: (borrowing CSVRecord) throws -> Void) rethrows {
        endField()
        defer {
            raw.removeAll(keepingCapacity: true)
            value.removeAll(keepingCapacity: true)
            fieldEnds.removeAll(keepingCapacity: true)
            overlong = false
            state = .fieldStart
            recordLine = line
        }
        // The record's slices end with this scope, before the buffers are reset for reuse.
        var fields: [ArraySlice<UInt8>] = []
        if !overlong {
            fields.reserveCapacity(fieldEnds.count)
            var start = 0
            for end in fieldEnds {
                fields.append(value[start..<end])
                start = end
            }
        }
        try emit(CSVRecord(line: recordLine, raw: raw[...], fields: fields, isOverlong: overlong))
    }
}
