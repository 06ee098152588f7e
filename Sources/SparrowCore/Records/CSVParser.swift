/// One record of a CSV file as the parser hands it out. Its bytes point into the parser's buffers, which are reused
/// for the next record: they are valid only during the callback, and handing a record out costs no allocation.
public struct CSVRecord {
    /// The 1-based line of the file on which the record starts.
    public let line: Int
    /// The record as it stood in the file (quotes included, line break excluded), cut at the size limit.
    public let raw: UnsafeBufferPointer<UInt8>
    /// Each field's unquoted bytes; empty when the record is over-long.
    public let fields: Fields
    /// The record was longer than the limit: `fields` is empty and `raw` is cut.
    public let isOverlong: Bool

    /// The fields of a record, over a value buffer and the end of each field in it: the fields back to back, or (a
    /// record without quotes, read where it lies) each after a one-byte delimiter.
    public struct Fields: RandomAccessCollection {
        let values: UnsafeBufferPointer<UInt8>
        let ends: UnsafeBufferPointer<Int>
        /// The bytes between one field's end and the next one's start.
        var gap = 0

        public var startIndex: Int { 0 }
        public var endIndex: Int { ends.count }

        public subscript(index: Int) -> UnsafeBufferPointer<UInt8> {
            UnsafeBufferPointer(rebasing: values[(index == 0 ? 0 : ends[index - 1] + gap)..<ends[index]])
        }
    }
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
    /// A line read where it lies (see `plainLine`): where its fields end.
    private var plainEnds: [Int] = []
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
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if atFileStart {
                index += 1
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
            // Fastest path: a whole line without quotes is handed out where it lies, copied nowhere.
            if state == .fieldStart, raw.isEmpty, fieldEnds.isEmpty, !overlong,
                let (content, next) = plainLine(in: bytes, from: index)
            {
                try emitPlainLine(UnsafeBufferPointer(rebasing: bytes[content]), emit: emit)
                index = next
                continue
            }
            // Fast path: a run of bytes that only extends the current field is copied whole.
            let runEnd = plainRunEnd(in: bytes, from: index)
            if runEnd > index {
                appendRun(UnsafeBufferPointer(rebasing: bytes[index..<runEnd]))
                index = runEnd
                continue
            }
            try step(byte, emit: emit)
            index += 1
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

    /// The line that starts at `start` when it is complete in `bytes`, holds no quote and no lone CR, and is within
    /// the size limit: its content (without the line break) and where the next line starts. Nil otherwise: the
    /// byte-by-byte path reads it.
    private func plainLine(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (Range<Int>, next: Int)? {
        var end = start
        while end < bytes.count, end - start <= maxRecordBytes {
            switch bytes[end] {
            case 0x0A:
                let content = end > start && bytes[end - 1] == 0x0D ? end - 1 : end
                return content - start <= maxRecordBytes ? (start..<content, end + 1) : nil
            case UInt8(ascii: "\""): return nil
            case 0x0D where end + 1 >= bytes.count || bytes[end + 1] != 0x0A: return nil
            default: end += 1
            }
        }
        return nil
    }

    /// Hands out a line `plainLine` found (or skips it when blank), as `endRecord` would the same bytes.
    private mutating func emitPlainLine(
        _ content: UnsafeBufferPointer<UInt8>, emit: (borrowing CSVRecord) throws -> Void
    ) rethrows {
        defer {
            line += 1
            recordLine = line
        }
        guard !content.isEmpty else { return }  // a blank line
        plainEnds.removeAll(keepingCapacity: true)
        for (offset, byte) in content.enumerated() where byte == UInt8(ascii: ",") { plainEnds.append(offset) }
        plainEnds.append(content.count)
        try plainEnds.withUnsafeBufferPointer { ends in
            let fields = CSVRecord.Fields(values: content, ends: ends, gap: 1)
            try emit(CSVRecord(line: recordLine, raw: content, fields: fields, isOverlong: false))
        }
    }

    /// Where the run of bytes from `start` that `step` would only append to the field ends: none of the bytes
    /// is a delimiter, quote or line break (nor, inside quotes, a quote or a line break, which counts lines).
    @inline(__always)
    private func plainRunEnd(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var end = start
        switch state {
        case .unquoted:
            while end < bytes.count {
                let byte = bytes[end]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == 0x0A || byte == 0x0D { break }
                end += 1
            }
        case .quoted:
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != 0x0A { end += 1 }
        case .fieldStart, .quoteInQuoted, .afterCR:
            break
        }
        return end
    }

    private mutating func appendRun(_ run: UnsafeBufferPointer<UInt8>) {
        if !overlong { value.append(contentsOf: run) }
        let room = maxRecordBytes - raw.count
        if run.count <= room {
            raw.append(contentsOf: run)
        } else {
            raw.append(contentsOf: UnsafeBufferPointer(rebasing: run[..<max(room, 0)]))
            overlong = true
        }
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
        if overlong { fieldEnds.removeAll(keepingCapacity: true) }
        defer {
            raw.removeAll(keepingCapacity: true)
            value.removeAll(keepingCapacity: true)
            fieldEnds.removeAll(keepingCapacity: true)
            overlong = false
            state = .fieldStart
            recordLine = line
        }
        try raw.withUnsafeBufferPointer { raw in
            try value.withUnsafeBufferPointer { values in
                try fieldEnds.withUnsafeBufferPointer { ends in
                    let fields = CSVRecord.Fields(values: values, ends: ends)
                    try emit(CSVRecord(line: recordLine, raw: raw, fields: fields, isOverlong: overlong))
                }
            }
        }
    }

}
