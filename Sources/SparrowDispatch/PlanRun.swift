import SparrowConfig
public import SparrowCore

/// `sparrow plan`: reads recipients, decides every row as `send` would, and writes one JSON line per row, the
/// rejects file and the totals. Nothing is sent and nothing is stored.
public struct PlanRun {
    public struct Options: Sendable {
        public var format: RecipientFormat?
        public var maxRowBytes: Int
        public var now: Timestamp
        /// Where rejected rows go (JSON Lines: line, reason, message, raw row).
        public var rejectsPath: String

        public init(format: RecipientFormat?, maxRowBytes: Int = 64 * 1024, now: Timestamp, rejectsPath: String) {
            self.format = format
            self.maxRowBytes = maxRowBytes
            self.now = now
            self.rejectsPath = rejectsPath
        }
    }

    public let settings: PlanSettings
    public let options: Options

    public init(settings: PlanSettings, options: Options) {
        self.settings = settings
        self.options = options
    }

    /// Plans every row of `input`, writing plan lines to `output`.
    /// - Returns: the totals.
    /// - Throws: `RecipientFileError` for an unreadable file, `IOError` for failed reads or writes.
    public func run(input: inout FileDescriptorInput, output: FileDescriptorOutput) throws -> PlanSummary {
        let rejects = try FileDescriptorOutput(creating: options.rejectsPath)
        var reader = RecipientReader(format: options.format, maxRowBytes: options.maxRowBytes)
        var planner = Planner(settings: settings, zones: SystemZones(around: options.now))
        var duplicates = DuplicateFilter()
        var summary = PlanSummary()
        var json = JSONWriter()
        let now = options.now

        func handle(_ input: RecipientInput) throws {
            json.reset()
            switch input {
            case .row(let row, let raw):
                switch planner.plan(row, now: now) {
                case .success(let message):
                    if duplicates.isDuplicate(message.number) {
                        summary.add(.duplicate)
                        PlanLine.write(message, status: .duplicate, to: &json)
                    } else {
                        summary.add(message, carrier: message.carrier.flatMap(settings.carriers.carrier(id:)))
                        PlanLine.write(message, status: message.isDeferred ? .deferred : .ready, to: &json)
                    }
                case .failure(let rejection):
                    summary.add(.rejected, reason: rejection.reason)
                    PlanLine.write(rejection, to: &json)
                    try RejectLine.write(rejection, raw: raw, to: rejects)
                }
            case .rejected(let rejection, let raw):
                summary.add(.rejected, reason: rejection.reason)
                PlanLine.write(rejection, to: &json)
                try RejectLine.write(rejection, raw: raw, to: rejects)
            }
            json.newline()
            try output.write(json.bytes)
        }

        while let chunk = try input.next() {
            try reader.consume(chunk, isFinal: false, emit: handle)
        }
        try reader.consume([], isFinal: true, emit: handle)
        try output.flush()
        try rejects.flush()
        return summary
    }
}

/// One line of `plan` output, in the spec's key order.
enum PlanLine {
    static func write(_ message: PlannedMessage, status: PlanStatus, to json: inout JSONWriter) {
        json.object { line in
            line.field("line", message.line)
            line.field("to", message.number.e164)
            line.field("status", status.rawValue)
            line.nullField("reason")
            line.field("carrier", message.carrier)
            line.field("gateway", message.gateway)
            line.field("encoding", message.segments.encoding.rawValue)
            line.field("units", message.segments.units)
            line.field("segments", message.segments.segments)
            if status == .duplicate {
                line.nullField("send_at")
            } else {
                line.rawField("send_at") { bytes in
                    bytes.append(UInt8(ascii: "\""))
                    message.sendAt.appendRFC3339(to: &bytes)
                    bytes.append(UInt8(ascii: "\""))
                }
            }
        }
    }

    static func write(_ rejection: RowRejection, to json: inout JSONWriter) {
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
