/// What the reader makes of a record: an order, or a reject with the record as written (borrowed: valid only during
/// the callback).
public enum OrderInput {
    case order(Order)
    case rejected(RowRejection, raw: UnsafeBufferPointer<UInt8>)
}

/// Turns an order export's bytes (UTF-8), fed in chunks, into orders: Taobao's order report, Shopify's orders
/// export or Sparrow's generic CSV, told apart by the header, or the generic JSON Lines, told by a first `{`.
/// Memory stays within one record, and one order for Shopify's export, whatever the file's length.
///
/// Values are read as the exports write them: Taobao's order ids as `="…"`, its phone numbers after a `'`, amounts
/// with `元` or `¥` (see `Money`), times without an offset at `offset` seconds east of UTC (see
/// `Timestamp(exported:offset:)`).
public struct OrderReader {
    /// The export the header named; nil until it has been read.
    public private(set) var export: OrderExport?
    private let offset: Int
    private var csv: CSVParser
    private var lines: LineSplitter
    private var isJSONLines: Bool?
    /// Bytes held back until the format is known.
    private var leading: [UInt8] = []
    private var columns: OrderColumns?
    /// The CSV columns an order is read from; the others are never decoded.
    private var readColumns: [Int] = []
    /// A record's values by column, kept between records for its storage.
    private var values: [String?] = []
    /// Shopify's export: the order being read, until a row of another order comes.
    private var open: Order?
    /// Shopify's export: the id of the last order whose first row was read, accepted or rejected; a rejected order's
    /// other line items go with it.
    private var lastOrderID: String?

    /// - Parameter offset: the UTC offset, in seconds, of times written without one (28,800 for China).
    public init(offset: Int, maxRowBytes: Int = 64 * 1024) {
        self.offset = offset
        csv = CSVParser(maxRecordBytes: maxRowBytes)
        lines = LineSplitter(maxLineBytes: maxRowBytes)
    }

    /// Parses `bytes`, calling `emit` for every order or reject completed; pass `isFinal` with the last chunk.
    /// - Throws: `InputFileError` when the file is not an order export Sparrow knows, or what `emit` throws.
    public mutating func consume(
        _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, emit: (OrderInput) throws -> Void
    ) throws {
        if isJSONLines == nil {
            leading.append(contentsOf: bytes)
            // Blankness is never held unbounded: past a row's length, the file is read as CSV (and has no header).
            isJSONLines = TabularInput.isJSONLines(leading) ?? (leading.count > csv.maxRecordBytes ? false : nil)
            guard isJSONLines != nil else {
                if isFinal { throw InputFileError(line: 1, message: "the file is empty") }
                return
            }
            if isJSONLines == true { export = .generic }
            let held = leading
            leading = []
            try held.withUnsafeBufferPointer { try feed($0, isFinal: isFinal, emit: emit) }
        } else {
            try feed(bytes, isFinal: isFinal, emit: emit)
        }
        if isFinal {
            if isJSONLines == false, columns == nil {
                throw InputFileError(line: 1, message: "the file has no header row")
            }
            if let open {
                self.open = nil
                try emit(.order(open))
            }
        }
    }

    private mutating func feed(
        _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, emit: (OrderInput) throws -> Void
    ) throws {
        if isJSONLines == true {
            var lines = lines  // moved out, so that its buffer stays unique while `self` is changed
            self.lines = LineSplitter(maxLineBytes: lines.maxLineBytes)
            defer { self.lines = lines }
            try lines.consume(bytes, isFinal: isFinal) { line, bytes, overlong in
                try jsonLine(line, bytes, overlong, emit: emit)
            }
        } else {
            var parser = csv
            csv = CSVParser(maxRecordBytes: parser.maxRecordBytes)
            defer { csv = parser }
            try parser.consume(bytes, isFinal: isFinal) { try csvRecord($0, emit: emit) }
        }
    }

    private mutating func csvRecord(_ record: borrowing CSVRecord, emit: (OrderInput) throws -> Void) throws {
        guard let columns else {
            guard !record.isOverlong else {
                throw InputFileError(line: record.line, message: "the header row is longer than the row limit")
            }
            let header = record.fields.map { String(decoding: $0, as: UTF8.self).trimmingASCIISpaces }
            guard let export = OrderExport.detect(header: header) else {
                throw InputFileError(
                    line: record.line,
                    message: "not an order export Sparrow reads: the header names neither Taobao's 订单编号 and 订单状态, "
                        + "nor Shopify's Name, Financial Status and Lineitem name, nor order_id")
            }
            self.export = export
            let columns = export.columns(header)
            self.columns = columns
            readColumns = columns.read
            return
        }
        if record.isOverlong {
            return try emit(
                .rejected(
                    RowRejection(
                        line: record.line, reason: .rowTooLong,
                        message: "the row is longer than \(csv.maxRecordBytes) bytes"),
                    raw: record.raw))
        }
        // Only the columns an order is made of are read: Taobao's report has 41, of which 9 are.
        var values = self.values
        self.values = []  // moved out, so that its storage stays unique while `self` is changed
        defer { self.values = values }
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(nil, count: record.fields.count))
        for column in readColumns where column < record.fields.count {
            let field = Self.cleaned(record.fields[column])
            guard !field.isEmpty else { continue }
            guard let value = field.validatedUTF8String else {
                return try emit(
                    .rejected(
                        RowRejection(line: record.line, reason: .invalidUTF8, message: "a field is not valid UTF-8"),
                        raw: record.raw))
            }
            values[column] = value
        }
        try row(line: record.line, columns: columns, values: values, raw: record.raw, emit: emit)
    }

    private mutating func jsonLine(
        _ line: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ overlong: Bool, emit: (OrderInput) throws -> Void
    ) throws {
        let members: [(key: String, value: String)]
        do {
            guard let read = try TabularInput.members(line: line, bytes, overlong: overlong) else { return }
            members = read
        } catch {
            return try emit(.rejected(error, raw: bytes))
        }
        try row(
            line: line, columns: OrderExport.generic.columns(members.map(\.key)),
            values: members.map { Self.cleaned($0.value) }, raw: bytes, emit: emit)
    }

    /// Makes an order of a row's values, or a reject; for Shopify's export, a row of the open order adds its item.
    private mutating func row(
        line: Int, columns: OrderColumns, values: [String?], raw: UnsafeBufferPointer<UInt8>,
        emit: (OrderInput) throws -> Void
    ) throws {
        func value(_ column: Int?) -> String? {
            guard let column, column < values.count else { return nil }
            return values[column]
        }
        func reject(_ reason: RejectReason, _ message: String) throws {
            try emit(.rejected(RowRejection(line: line, reason: reason, message: message), raw: raw))
        }
        guard let id = value(columns.id) else { return try reject(.missingOrderID, "the row has no order id") }
        if export == .shopify, id == lastOrderID {  // another line item of the order read
            if var open {
                if let item = value(columns.items) { open.items.append(item) }
                self.open = open
            }
            return
        }
        if let open {
            self.open = nil
            try emit(.order(open))
        }
        lastOrderID = id
        let phone = value(columns.phone)
        guard let customer = value(columns.customer) ?? phone else {
            return try reject(.missingCustomer, "order \(id) has neither a customer id nor a phone number")
        }
        /// The time in `column`: nil when it has none, `.some(nil)` when it is no time.
        func time(_ column: Int?) -> Timestamp?? {
            guard let text = value(column) else { return .some(nil) }
            guard let time = Timestamp(exported: text, offset: offset) else { return nil }
            return time
        }
        guard let created = time(columns.created), let paid = time(columns.paid) else {
            let (field, text) =
                time(columns.created) == nil ? ("created", value(columns.created)) : ("paid", value(columns.paid))
            return try reject(.invalidTime, "order \(id): the \(field) time '\(text ?? "")' is not a date and time")
        }
        guard let amountText = value(columns.amount) else {
            return try reject(.invalidAmount, "order \(id) has no amount")
        }
        guard let amount = Money(amountText) else {
            return try reject(.invalidAmount, "order \(id): the amount '\(amountText)' is not an amount of money")
        }
        guard
            let state = export!.state(
                status: value(columns.status), paid: paid != nil, cancelled: value(columns.cancelled) != nil,
                fulfillment: value(columns.fulfillment))
        else {
            return try reject(.unknownStatus, "order \(id): unknown status '\(value(columns.status) ?? "")'")
        }
        let splitsLists = export == .generic
        func list(_ column: Int?) -> [String] {
            guard let text = value(column) else { return [] }
            guard splitsLists, text.utf8.contains(UInt8(ascii: "|")) else { return [text] }
            return text.utf8.split(separator: UInt8(ascii: "|")).compactMap { Self.cleaned(String(Substring($0))) }
        }
        let order = Order(
            id: id, customer: customer, phone: phone, name: value(columns.name), created: created, paid: paid,
            state: state, amount: amount, items: list(columns.items), categories: list(columns.categories))
        if export == .shopify {
            open = order
        } else {
            try emit(.order(order))
        }
    }

    /// A value as exports write it, unwrapped: Excel's `="…"` guard and a leading `'` removed, spaces trimmed; nil
    /// when nothing is left.
    static func cleaned(_ value: String) -> String? {
        var contiguous = value
        return contiguous.withUTF8 { bytes in
            let cleaned = Self.cleaned(bytes)
            return cleaned.isEmpty
                ? nil : cleaned.count == bytes.count ? value : String(decoding: cleaned, as: UTF8.self)
        }
    }

    /// The bytes of a value as exports write it, unwrapped (see `cleaned(_:)`); cutting ASCII bytes off its ends
    /// keeps UTF-8 valid.
    static func cleaned(_ field: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var (start, end) = (field.startIndex, field.endIndex)
        func trim() {
            while start < end, field[start] == 0x20 || field[start] == 0x09 { start += 1 }
            while end > start, field[end - 1] == 0x20 || field[end - 1] == 0x09 { end -= 1 }
        }
        trim()
        let quote = UInt8(ascii: "\"")
        if end - start >= 3, field[start] == UInt8(ascii: "="), field[start + 1] == quote, field[end - 1] == quote {
            start += 2
            end -= 1
        }
        if start < end, field[start] == UInt8(ascii: "'") { start += 1 }
        trim()
        return UnsafeBufferPointer(rebasing: field[start..<end])
    }
}
