/// What the reader makes of a record: an order, or a reject with the record as written (borrowed: valid only during
/// the callback).
public enum OrderInput {
    case order(Order)
    case rejected(RowRejection, raw: UnsafeBufferPointer<UInt8>)
}

/// Turns an order export's bytes (UTF-8), fed in chunks, into orders: Taobao's order report, Shopify's orders
/// export or Sparrow's generic CSV, told apart by the header, or the generic JSON Lines, told by a first `{`.
/// Memory stays within one chunk's records, and one order for Shopify's export, whatever the file's length.
///
/// It reads in three steps, which `OrderFileRun` runs on three threads: `OrderRecordReader` splits the bytes into
/// records, `OrderRecordBatch.rows(offset:)` makes a row of each, and `OrderAssembler` makes orders of the rows.
public struct OrderReader {
    private var records: OrderRecordReader
    private var assembler = OrderAssembler()
    private let offset: Int
    private var batch = OrderRecordBatch()

    /// The export the header named; nil until it has been read.
    public var export: OrderExport? { records.export }

    /// - Parameter offset: the UTC offset, in seconds, of times written without one (28,800 for China).
    public init(offset: Int, maxRowBytes: Int = 64 * 1024) {
        self.offset = offset
        records = OrderRecordReader(maxRowBytes: maxRowBytes)
    }

    /// Parses `bytes`, calling `emit` for every order or reject completed; pass `isFinal` with the last chunk.
    /// - Throws: `InputFileError` when the file is not an order export Sparrow knows, or what `emit` throws.
    public mutating func consume(
        _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, emit: (OrderInput) throws -> Void
    ) throws {
        try records.consume(bytes, isFinal: isFinal, into: &batch)
        try assembler.add(batch.rows(offset: offset), of: batch, emit: emit)
        batch.removeAll()
        if isFinal { try assembler.finish(emit: emit) }
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

/// The fields of an order that exports hold, in the order `OrderRecordBatch` keeps them.
enum OrderField: Int, CaseIterable {
    case id, customer, phone, name, nickname, created, paid, status, amount, items, categories, cancelled, fulfillment
}

/// The first step of reading an order export: splits its bytes, fed in chunks, into records (CSV rows after the
/// header, or JSON lines) and keeps the bytes of the fields an order is made of, cleaned, in a batch. Rows too long
/// or malformed are rejected here.
public struct OrderRecordReader {
    /// The export the header named; nil until it has been read.
    public private(set) var export: OrderExport?
    private var csv: CSVParser
    private var lines: LineSplitter
    private var isJSONLines: Bool?
    /// Bytes held back until the format is known.
    private var leading: [UInt8] = []
    /// A CSV file's column of each field, in `OrderField`'s order, from its header.
    private var columns: [Int?]?

    public init(maxRowBytes: Int = 64 * 1024) {
        csv = CSVParser(maxRecordBytes: maxRowBytes)
        lines = LineSplitter(maxLineBytes: maxRowBytes)
    }

    /// Parses `bytes`, adding every record or reject completed to `batch`; pass `isFinal` with the last chunk.
    /// - Throws: `InputFileError` when the file is not an order export Sparrow knows.
    public mutating func consume(
        _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, into batch: inout OrderRecordBatch
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
            try held.withUnsafeBufferPointer { try feed($0, isFinal: isFinal, into: &batch) }
        } else {
            try feed(bytes, isFinal: isFinal, into: &batch)
        }
        if isFinal, isJSONLines == false, columns == nil {
            throw InputFileError(line: 1, message: "the file has no header row")
        }
    }

    private mutating func feed(
        _ bytes: UnsafeBufferPointer<UInt8>, isFinal: Bool, into batch: inout OrderRecordBatch
    ) throws {
        if let export { batch.export = export }  // else the header, read below, names it
        if isJSONLines == true {
            lines.consume(bytes, isFinal: isFinal) { line, bytes, overlong in
                Self.jsonLine(line, bytes, overlong, into: &batch)
            }
        } else {
            var parser = csv
            csv = CSVParser(maxRecordBytes: parser.maxRecordBytes)  // moved out, so that `self` may change meanwhile
            defer { csv = parser }
            try parser.consume(bytes, isFinal: isFinal) { try csvRecord($0, into: &batch) }
        }
    }

    private mutating func csvRecord(_ record: borrowing CSVRecord, into batch: inout OrderRecordBatch) throws {
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
            batch.export = export
            columns = export.columns(header).byField
            return
        }
        guard !record.isOverlong else {
            let message = "the row is longer than \(csv.maxRecordBytes) bytes"
            return batch.append(
                line: record.line, RowRejection(line: record.line, reason: .rowTooLong, message: message),
                raw: record.raw)
        }
        // Only the columns an order is made of are kept: Taobao's report has 41, of which 9 are.
        let fields = record.fields
        batch.append(line: record.line, raw: record.raw) { name, add in
            if let column = columns[name.rawValue], column < fields.count { add(OrderReader.cleaned(fields[column])) }
        }
    }

    private static func jsonLine(
        _ line: Int, _ bytes: UnsafeBufferPointer<UInt8>, _ overlong: Bool, into batch: inout OrderRecordBatch
    ) {
        let members: [(key: String, value: String)]
        do {
            guard let read = try TabularInput.members(line: line, bytes, overlong: overlong) else { return }
            members = read
        } catch {
            return batch.append(line: line, error, raw: bytes)
        }
        let columns = OrderExport.generic.columns(members.map(\.key)).byField
        batch.append(line: line, raw: bytes) { name, add in
            guard let column = columns[name.rawValue] else { return }
            var value = members[column].value
            value.withUTF8 { add(OrderReader.cleaned($0)) }
        }
    }
}

/// Records of an order export, each with the bytes of the fields an order is made of and the record as written (for
/// the rejects file), in a few buffers: what `OrderRecordReader` fills, and `rows(offset:)` reads, possibly on
/// another thread.
public struct OrderRecordBatch: Sendable {
    /// The export the records come from.
    public fileprivate(set) var export = OrderExport.generic
    private var lines: [Int] = []
    /// The records rejected while they were split, by index.
    private var rejections: [Int: RowRejection] = [:]
    /// Where each field's bytes end in `bytes`: `OrderField.allCases.count` a record.
    private var fieldEnds: [Int] = []
    private var bytes: [UInt8] = []
    private var rawEnds: [Int] = []
    private var raw: [UInt8] = []

    public init() {}

    public var count: Int { lines.count }

    /// Adds a record: `fields` hands each field's bytes to `add`, or nothing for a field the record lacks.
    mutating func append(
        line: Int, raw record: UnsafeBufferPointer<UInt8>,
        fields: (_ name: OrderField, _ add: (UnsafeBufferPointer<UInt8>) -> Void) -> Void
    ) {
        lines.append(line)
        for name in OrderField.allCases {
            fields(name) { bytes.append(contentsOf: $0) }
            fieldEnds.append(bytes.count)
        }
        raw.append(contentsOf: record)
        rawEnds.append(raw.count)
    }

    /// Adds a record rejected while it was split.
    mutating func append(line: Int, _ rejection: RowRejection, raw record: UnsafeBufferPointer<UInt8>) {
        rejections[lines.count] = rejection
        append(line: line, raw: record) { _, _ in }
    }

    public mutating func removeAll() {
        rejections.removeAll()
        lines.removeAll(keepingCapacity: true)
        fieldEnds.removeAll(keepingCapacity: true)
        bytes.removeAll(keepingCapacity: true)
        rawEnds.removeAll(keepingCapacity: true)
        raw.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with record `index` as written.
    func withRaw<Result>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try raw.withUnsafeBufferPointer { raw in
            try body(UnsafeBufferPointer(rebasing: raw[(index == 0 ? 0 : rawEnds[index - 1])..<rawEnds[index]]))
        }
    }

    /// A row of each record, in order: values are read as the exports write them: Taobao's order ids as `="…"`, its
    /// phone numbers after a `'`, amounts with `元` or `¥` (see `Money`), times without an offset at `offset`
    /// seconds east of UTC (see `Timestamp(exported:offset:)`).
    public func rows(offset: Int) -> [OrderRow] {
        // Read here, not through `self` in the closures, which would copy the whole batch for each field.
        let (lines, rejections, export) = (lines, rejections, export)
        return bytes.withUnsafeBufferPointer { bytes in
            fieldEnds.withUnsafeBufferPointer { ends in
                lines.indices.map { index in
                    if let rejection = rejections[index] { return OrderRow(rejected: rejection) }
                    let first = index * OrderField.allCases.count
                    return OrderRow(line: lines[index], export: export, offset: offset) { field in
                        let slot = first + field.rawValue
                        return UnsafeBufferPointer(rebasing: bytes[(slot == 0 ? 0 : ends[slot - 1])..<ends[slot]])
                    }
                }
            }
        }
    }
}

/// What a record says: an order, or why it is none. Shopify's export writes an order over several rows, whose later
/// rows only add their item: `OrderAssembler` tells them apart by the id.
public struct OrderRow: Sendable {
    /// The order id; nil when the record has none, or was rejected before it was read.
    var id: String?
    /// The line item the record names, as written.
    var item: String?
    var order: Result<Order, RowRejection>

    init(rejected rejection: RowRejection) {
        order = .failure(rejection)
    }

    /// Reads the record of `line` whose fields' bytes `field` gives (valid only during the call).
    init(line: Int, export: OrderExport, offset: Int, field: (OrderField) -> UnsafeBufferPointer<UInt8>) {
        func reject(_ reason: RejectReason, _ message: String) -> Result<Order, RowRejection> {
            .failure(RowRejection(line: line, reason: reason, message: message))
        }
        guard OrderField.allCases.allSatisfy({ field($0).isValidUTF8 }) else {
            order = reject(.invalidUTF8, "a field is not valid UTF-8")
            return
        }
        func value(_ name: OrderField) -> String? {
            let bytes = field(name)
            return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
        }
        let id = value(.id)
        self.id = id
        item = value(.items)
        guard let id else {
            order = reject(.missingOrderID, "the row has no order id")
            return
        }
        let phone = value(.phone)
        guard let customer = value(.customer) ?? phone else {
            order = reject(.missingCustomer, "order \(id) has neither a customer id nor a phone number")
            return
        }
        /// The time in `name`: nil when it has none, `.some(nil)` when it is no time.
        func time(_ name: OrderField) -> Timestamp?? {
            let bytes = field(name)
            guard !bytes.isEmpty else { return .some(nil) }
            guard let time = Timestamp(exported: bytes, offset: offset) else { return nil }
            return time
        }
        guard let created = time(.created), let paid = time(.paid) else {
            let name = time(.created) == nil ? OrderField.created : .paid
            order = reject(
                .invalidTime, "order \(id): the \(name) time '\(value(name) ?? "")' is not a date and time")
            return
        }
        guard let amountText = value(.amount) else {
            order = reject(.invalidAmount, "order \(id) has no amount")
            return
        }
        guard let amount = Money(amountText) else {
            order = reject(.invalidAmount, "order \(id): the amount '\(amountText)' is not an amount of money")
            return
        }
        guard
            let state = export.state(
                status: value(.status), paid: paid != nil, cancelled: !field(.cancelled).isEmpty,
                fulfillment: value(.fulfillment))
        else {
            order = reject(.unknownStatus, "order \(id): unknown status '\(value(.status) ?? "")'")
            return
        }
        func list(_ name: OrderField) -> [String] {
            guard let text = value(name) else { return [] }
            guard export == .generic, text.utf8.contains(UInt8(ascii: "|")) else { return [text] }
            return text.utf8.split(separator: UInt8(ascii: "|")).compactMap {
                OrderReader.cleaned(String(Substring($0)))
            }
        }
        order = .success(
            Order(
                id: id, customer: customer, phone: phone, name: value(.name), nickname: value(.nickname),
                created: created, paid: paid,
                state: state, amount: amount, items: list(.items), categories: list(.categories)))
    }
}

/// The last step of reading an order export: makes orders of rows in file order. Shopify's export writes an order
/// over several rows, one a line item: its order is emitted once a row of another order comes, or at `finish`.
public struct OrderAssembler {
    /// Shopify's export: the order being read, until a row of another order comes.
    private var open: Order?
    /// Shopify's export: the id of the last order whose first row was read, accepted or rejected; a rejected order's
    /// other line items go with it.
    private var lastOrderID: String?

    public init() {}

    /// Emits the orders and rejects of `rows`, the rows of `batch`'s records.
    public mutating func add(
        _ rows: [OrderRow], of batch: OrderRecordBatch, emit: (OrderInput) throws -> Void
    ) throws {
        let shopify = batch.export == .shopify
        for index in rows.indices {
            // The row is passed as the array holds it: a copy of each would retain every one of its strings.
            try add(rows[index], shopify: shopify) { input in
                switch input {
                case .success(let order): try emit(.order(order))
                case .failure(let rejection): try batch.withRaw(index) { try emit(.rejected(rejection, raw: $0)) }
                }
            }
        }
    }

    private mutating func add(
        _ row: borrowing OrderRow, shopify: Bool, emit: (borrowing Result<Order, RowRejection>) throws -> Void
    ) throws {
        guard let id = row.id else { return try emit(row.order) }
        if shopify, id == lastOrderID {  // another line item of the order read
            if var open {
                if let item = row.item { open.items.append(item) }
                self.open = open
            }
            return
        }
        try closeOpenOrder { try emit(.success($0)) }
        lastOrderID = id
        if shopify, case .success(let order) = row.order {
            open = order
        } else {
            try emit(row.order)
        }
    }

    /// Emits the order still open, if any: call it after the last row.
    public mutating func finish(emit: (OrderInput) throws -> Void) throws {
        try closeOpenOrder { try emit(.order($0)) }
    }

    private mutating func closeOpenOrder(_ emit: (Order) throws -> Void) throws {
        if let open {
            self.open = nil
            try emit(open)
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether the bytes are UTF-8; checked without making a string of them.
    package var isValidUTF8: Bool {
        guard contains(where: { $0 >= 0x80 }) else { return true }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = makeIterator()
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }
}
