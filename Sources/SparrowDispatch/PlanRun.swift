public import SparrowCore

/// `sparrow plan`: reads recipients, decides every row as `send` would, and writes one JSON line per row, the
/// rejects file and the totals. Nothing is sent and nothing is stored.
public struct PlanRun: Sendable {
    public struct Options: Sendable {
        public var format: RecipientFormat?
        public var maxRowBytes: Int
        public var now: Timestamp
        /// Where rejected rows go (JSON Lines: line, reason, message, raw row).
        public var rejectsPath: String
        /// Planning threads.
        public var workers: Int
        /// Rows handed between threads at once.
        public var batchSize: Int

        public init(
            format: RecipientFormat?, maxRowBytes: Int = 64 * 1024, now: Timestamp, rejectsPath: String,
            workers: Int = 2, batchSize: Int = 512
        ) {
            self.format = format
            self.maxRowBytes = maxRowBytes
            self.now = now
            self.rejectsPath = rejectsPath
            self.workers = workers
            self.batchSize = batchSize
        }
    }

    public let settings: PlanSettings
    /// Where the time zones' rules come from; each planning thread asks once per zone.
    public let zones: any ZoneRulesProvider
    public let options: Options
    public let contacts: ContactPolicy

    public init(
        settings: PlanSettings, zones: any ZoneRulesProvider, options: Options,
        contacts: ContactPolicy = ContactPolicy()
    ) {
        self.settings = settings
        self.zones = zones
        self.options = options
        self.contacts = contacts
    }

    /// Plans every row read from `input`, writing plan lines to `output`, in input order.
    /// - Returns: the totals.
    /// - Throws: `InputFileError` for an unreadable file, `IOError` for failed reads or writes.
    public func run(input descriptor: Int32, output: FileDescriptorOutput) throws -> PlanSummary {
        var json = JSONWriter()
        var lines = PlanLine()
        let summary = try run(input: descriptor, findingDuplicates: true) { rows in
            json.reset()
            for row in rows {
                switch row {
                case .message(let message, let status): lines.write(message, status: status, to: &json)
                case .rejected(let rejection): lines.write(rejection, to: &json)
                }
                json.newline()
            }
            try output.write(json.bytes)
        }
        try output.flush()
        return summary
    }

    /// Decides every row read from `input` and hands them to `decided` a batch at a time, in input order, writing
    /// rejected rows to the rejects file. Reading, planning (on `options.workers` threads) and deciding overlap,
    /// in bounded memory; `decided` runs on the calling thread and may block to hold the input back.
    /// - Parameter findingDuplicates: whether a row whose number came earlier is decided `duplicate` here, from a
    ///   set of every number read (`plan`). `send` leaves duplicates to its journal, which finds them without holding
    ///   every number in memory.
    /// - Returns: the totals.
    /// - Throws: `InputFileError` for an unreadable file, `IOError` for failed reads or writes, and whatever
    ///   `decided` throws (which stops reading).
    public func run(
        input descriptor: Int32, findingDuplicates: Bool, onRead: @escaping @Sendable (_ bytes: Int) -> Void = { _ in },
        decided: ([DecidedRow]) throws -> Void
    ) throws -> PlanSummary {
        let rejects = try FileDescriptorOutput(creating: options.rejectsPath)
        var duplicates = DuplicateFilter()
        var summary = PlanSummary()
        let (settings, zones, options) = (settings, zones, options)
        let pipeline = OrderedBatchPipeline<RecordBatch<RecipientInputItem>, RecordBatch<DecidedRow>>(
            workers: options.workers)
        try pipeline.run(
            produce: { send in
                var input = FileDescriptorInput(descriptor: descriptor)
                var reader = RecipientReader(format: options.format, maxRowBytes: options.maxRowBytes)
                var batch = RecordBatch<RecipientInputItem>()
                let collect = { (item: RecipientInput) throws in
                    batch.append(item)
                    if batch.count >= options.batchSize {
                        try send(batch)
                        batch = RecordBatch()
                    }
                }
                while let chunk = try input.next() {
                    onRead(chunk.count)
                    try reader.consume(chunk, isFinal: false, emit: collect)
                }
                try reader.consume([], isFinal: true, emit: collect)
                if batch.count > 0 { try send(batch) }
            },
            makeWorker: {
                var planner = Planner(settings: settings, zones: zones)
                return { batch in
                    batch.map { item in
                        switch item {
                        case .row(let row):
                            switch planner.plan(row, now: options.now) {
                            case .success(let message): .message(message, message.isDeferred ? .deferred : .ready)
                            case .failure(let rejection): .rejected(rejection)
                            }
                        case .rejected(let rejection): .rejected(rejection)
                        }
                    }
                }
            },
            consume: { batch in
                // In place: a planned row keeps its status unless the number is refused or came earlier.
                try batch.updateEach { row, raw in
                    switch row {
                    case .message(let message, _):
                        if let refusal = contacts.refusal(for: message.number) {
                            summary.add(refusal)
                            row = .message(message, refusal)
                        } else if findingDuplicates, duplicates.isDuplicate(message.number) {
                            summary.add(.duplicate)
                            row = .message(message, .duplicate)
                        } else {
                            summary.add(message)
                        }
                    case .rejected(let rejection):
                        summary.add(.rejected, reason: rejection.reason)
                        try RejectLine.write(rejection, raw: raw, to: rejects)
                    }
                }
                try decided(batch.items)
            })
        try rejects.flush()
        return summary
    }
}

/// A row as `send` and `plan` decided it.
public enum DecidedRow: Sendable {
    /// A planned message with its fate: ready, deferred, duplicate, suppressed or capped.
    case message(PlannedMessage, PlanStatus)
    case rejected(RowRejection)
}

/// What the reader hands to the planners.
enum RecipientInputItem: Sendable {
    case row(RecipientRow)
    case rejected(RowRejection)
}

/// A batch of items, each with its record's raw bytes (for the rejects file), in one buffer per batch.
struct RecordBatch<Item: Sendable>: Sendable {
    private(set) var items: [Item] = []
    private var ends: [Int] = []
    private var raw: [UInt8] = []

    var count: Int { items.count }

    mutating func append(_ item: Item, raw record: some Collection<UInt8>) {
        items.append(item)
        raw.append(contentsOf: record)
        ends.append(raw.count)
    }

    /// The same records with each item transformed.
    func map<Other>(_ transform: (Item) -> Other) -> RecordBatch<Other> {
        RecordBatch<Other>(items: items.map(transform), ends: ends, raw: raw)
    }

    /// Calls `body` with each item in place, in order, and its record's raw bytes.
    mutating func updateEach(_ body: (inout Item, ArraySlice<UInt8>) throws -> Void) rethrows {
        for index in items.indices {
            try body(&items[index], raw[(index == 0 ? 0 : ends[index - 1])..<ends[index]])
        }
    }
}

extension RecordBatch<RecipientInputItem> {
    mutating func append(_ input: RecipientInput) {
        switch input {
        case .row(let row, let raw): append(.row(row), raw: raw)
        case .rejected(let rejection, let raw): append(.rejected(rejection), raw: raw)
        }
    }
}

/// One line of `plan` output, in the spec's key order.
struct PlanLine {
    /// The last `send_at` formatted, quoted: most rows of a run share one (now, or the end of tonight's quiet
    /// hours).
    private var formattedInstant: (instant: Timestamp, json: [UInt8])?

    /// Writes the line in fixed fragments: this runs once per row on the single writer thread.
    mutating func write(_ message: PlannedMessage, status: PlanStatus, to json: inout JSONWriter) {
        json.fragment(#"{"line":"#)
        json.fragment(int: message.line)
        json.fragment(#","to":"#)
        json.fragment(string: message.number.e164)
        switch status {
        case .ready: json.fragment(#","status":"ready","reason":null,"carrier":"#)
        case .deferred: json.fragment(#","status":"deferred","reason":null,"carrier":"#)
        case .duplicate: json.fragment(#","status":"duplicate","reason":null,"carrier":"#)
        case .suppressed: json.fragment(#","status":"suppressed","reason":null,"carrier":"#)
        case .capped: json.fragment(#","status":"capped","reason":null,"carrier":"#)
        case .heldOut: json.fragment(#","status":"held-out","reason":null,"carrier":"#)
        case .overBudget: json.fragment(#","status":"over-budget","reason":null,"carrier":"#)
        case .rejected: preconditionFailure("rejected rows are written by their own lines")
        }
        json.fragment(string: message.carrier)
        json.fragment(#","gateway":"#)
        json.fragment(string: message.gateway)
        json.fragment(
            message.segments.encoding == .gsm7 ? #","encoding":"GSM-7","units":"# : #","encoding":"UCS-2","units":"#)
        json.fragment(int: message.segments.units)
        json.fragment(#","segments":"#)
        json.fragment(int: message.segments.segments)
        guard status == .ready || status == .deferred else {
            json.fragment(#","send_at":null}"#)  // not to be sent
            return
        }
        if formattedInstant?.instant != message.sendAt {
            formattedInstant = (
                message.sendAt, [UInt8(ascii: "\"")] + message.sendAt.rfc3339Bytes + [UInt8(ascii: "\"")]
            )
        }
        json.fragment(#","send_at":"#)
        json.fragment(bytes: formattedInstant!.json)
        json.fragment("}")
    }

    func write(_ rejection: RowRejection, to json: inout JSONWriter) {
        json.object { line in
            line.field("line", rejection.line)
            line.nullField("to")
            line.field("status", PlanStatus.rejected.rawValue)
            line.field("reason", rejection.reason.code)
            for key: StaticString in ["carrier", "gateway", "encoding", "units", "segments", "send_at"] {
                line.nullField(key)
            }
        }
    }
}

/// One line of the rejects file: `{"line":N,"reason":"invalid-phone","message":"…","raw":"…"}`.
enum RejectLine {
    static func write(
        _ rejection: RowRejection, raw: ArraySlice<UInt8>, to file: FileDescriptorOutput
    ) throws(IOError) {
        var json = JSONWriter()
        json.object { line in
            line.field("line", rejection.line)
            line.field("reason", rejection.reason.code)
            line.field("message", rejection.message)
            line.field("raw", String(decoding: raw, as: UTF8.self))  // invalid UTF-8 shows as U+FFFD
        }
        json.newline()
        try file.write(json.bytes)
    }
}
