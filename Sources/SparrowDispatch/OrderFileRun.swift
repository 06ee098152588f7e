import Glibc
public import SparrowCore
import Synchronization

/// Reads an order export into every customer's history, writing its rejected rows to a rejects file, in memory
/// bounded by the number of customers.
public struct OrderFileRun: Sendable {
    /// The text encodings order exports come in.
    public enum Encoding: String, Sendable, CaseIterable {
        case utf8 = "utf-8"
        /// GB18030, which holds GBK and GB2312: Taobao's exports.
        case gbk
    }

    public struct Options: Sendable {
        public var path: String
        /// Detected from the file's first chunk when nil: UTF-8 when it is valid UTF-8, GB18030 otherwise.
        public var encoding: Encoding?
        /// The UTC offset, in seconds, of times written without one.
        public var offset: Int
        public var rejectsPath: String
        public var maxRowBytes: Int
        /// The words to look for in each purchase's items (a filter's `keywords`).
        public var keywords: [String]

        public init(
            path: String, encoding: Encoding? = nil, offset: Int = 8 * 3600, rejectsPath: String,
            maxRowBytes: Int = 64 * 1024, keywords: [String] = []
        ) {
            self.path = path
            self.encoding = encoding
            self.offset = offset
            self.rejectsPath = rejectsPath
            self.maxRowBytes = maxRowBytes
            self.keywords = keywords
        }
    }

    /// What a read found.
    public struct Summary: Sendable, Hashable {
        public var export: OrderExport?
        public var encoding: Encoding?
        public var orders = 0
        public var rejected = 0
    }

    public let options: Options

    public init(options: Options) {
        self.options = options
    }

    /// Reads the file into every customer's history.
    /// - Throws: `IOError` when it cannot be opened or read, `InputFileError` when it is not an order export.
    public func run() throws -> (book: CustomerBook, summary: Summary) {
        var book = CustomerBook(keywords: options.keywords)
        let summary = try read { book.add($0) }
        return (book, summary)
    }

    /// Reads the file, handing each order to `body` in the file's order, on the calling thread, which also writes the
    /// rejects. Two other threads meanwhile read the file's records and make rows of them, a few batches ahead.
    /// - Throws: `IOError` when it cannot be opened or read, `InputFileError` when it is not an order export.
    public func read(_ body: (Order) -> Void) throws -> Summary {
        let descriptor = open(options.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw IOError(operation: "open \(options.path)", errno: errno) }
        defer { close(descriptor) }
        let options = options
        let rejects = try FileDescriptorOutput(creating: options.rejectsPath)
        let read = Lock(Summary(encoding: options.encoding))  // the export and encoding, once the file is read
        var assembler = OrderAssembler()
        var (orders, rejected) = (0, 0)
        func take(_ input: OrderInput) throws {
            switch input {
            case .order(let order):
                orders += 1
                body(order)
            case .rejected(let rejection, let raw):
                rejected += 1
                try RejectLine.write(rejection, raw: ArraySlice(raw), to: rejects)
            }
        }
        try OrderedBatchPipeline<OrderRecordBatch, (OrderRecordBatch, [OrderRow])>(workers: 1).run(
            produce: { send in
                let summary = try Self.records(descriptor, options, send)
                read.withLock { $0 = summary }
            },
            makeWorker: { { batch in (batch, batch.rows(offset: options.offset)) } },
            consume: { batch in try assembler.add(batch.1, of: batch.0, emit: take) })
        try assembler.finish(emit: take)
        try rejects.flush()
        var summary = read.withLock { $0 }
        (summary.orders, summary.rejected) = (orders, rejected)
        return summary
    }

    /// Reads the file's records, handing them to `send` in batches; returns its export and encoding.
    private static func records(
        _ descriptor: Int32, _ options: Options, _ send: (OrderRecordBatch) throws -> Void
    ) throws -> Summary {
        var input = FileDescriptorInput(descriptor: descriptor)
        var reader = OrderRecordReader(maxRowBytes: options.maxRowBytes)
        var summary = Summary(encoding: options.encoding)
        var decoder: GB18030Decoder?
        var batch = OrderRecordBatch()
        func feed(_ chunk: ArraySlice<UInt8>, isFinal: Bool) throws {
            if summary.encoding == nil {
                summary.encoding = chunk.isValidUTF8(allowingCutEnd: !isFinal) ? .utf8 : .gbk
            }
            if summary.encoding == .gbk, decoder == nil { decoder = try GB18030Decoder() }
            let text = decoder.map { Array($0.decode(chunk, isFinal: isFinal))[...] } ?? chunk
            try text.withUnsafeBufferPointer { try reader.consume($0, isFinal: isFinal, into: &batch) }
            if batch.count >= 1024 || (isFinal && batch.count > 0) {
                try send(batch)
                batch = OrderRecordBatch()
            }
        }
        while let chunk = try input.next() { try feed(chunk, isFinal: false) }
        try feed([], isFinal: true)
        summary.export = reader.export
        return summary
    }
}

extension Collection<UInt8> {
    /// Whether the bytes are UTF-8, a character cut at the very end allowed when `allowingCutEnd`.
    func isValidUTF8(allowingCutEnd: Bool) -> Bool {
        var bytes = Array(self)
        if allowingCutEnd, let lead = bytes.suffix(4).lastIndex(where: { $0 >= 0xC0 }) {
            let length = bytes[lead] >= 0xF0 ? 4 : bytes[lead] >= 0xE0 ? 3 : 2
            if bytes.count - lead < length { bytes.removeSubrange(lead...) }  // cut: judge what precedes it
        }
        return bytes.withUnsafeBufferPointer(\.isValidUTF8)
    }
}
