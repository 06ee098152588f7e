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

    /// Reads the file, handing each order to `body` in the file's order, on the calling thread. Another thread reads
    /// and parses the file meanwhile (and writes the rejects), a batch of orders ahead.
    /// - Throws: `IOError` when it cannot be opened or read, `InputFileError` when it is not an order export.
    public func read(_ body: (Order) -> Void) throws -> Summary {
        let descriptor = open(options.path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw IOError(operation: "open \(options.path)", errno: errno) }
        defer { close(descriptor) }
        let options = options
        let summary = Lock(Summary(encoding: options.encoding))
        try OrderedBatchPipeline<[Order], [Order]>(workers: 1).run(
            produce: { send in
                let parsed = try Self.parse(descriptor, options, send)
                summary.withLock { $0 = parsed }
            },
            makeWorker: { { $0 } },
            consume: { orders in
                for order in orders { body(order) }
            })
        return summary.withLock { $0 }
    }

    /// Reads and parses the file, handing its orders to `send` in batches and writing its rejects.
    private static func parse(
        _ descriptor: Int32, _ options: Options, _ send: ([Order]) throws -> Void
    ) throws -> Summary {
        var input = FileDescriptorInput(descriptor: descriptor)
        let rejects = try FileDescriptorOutput(creating: options.rejectsPath)
        var reader = OrderReader(offset: options.offset, maxRowBytes: options.maxRowBytes)
        var summary = Summary(encoding: options.encoding)
        var decoder: GB18030Decoder?
        var batch: [Order] = []
        func take(_ input: OrderInput) throws {
            switch input {
            case .order(let order):
                batch.append(order)
                summary.orders += 1
                if batch.count == 1024 {
                    try send(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            case .rejected(let rejection, let raw):
                summary.rejected += 1
                try RejectLine.write(rejection, raw: ArraySlice(raw), to: rejects)
            }
        }
        func feed(_ chunk: ArraySlice<UInt8>, isFinal: Bool) throws {
            if summary.encoding == nil {
                summary.encoding = chunk.isValidUTF8(allowingCutEnd: !isFinal) ? .utf8 : .gbk
            }
            if summary.encoding == .gbk, decoder == nil { decoder = try GB18030Decoder() }
            let text = decoder.map { Array($0.decode(chunk, isFinal: isFinal))[...] } ?? chunk
            try text.withUnsafeBufferPointer { try reader.consume($0, isFinal: isFinal, emit: take) }
        }
        while let chunk = try input.next() { try feed(chunk, isFinal: false) }
        try feed([], isFinal: true)
        if !batch.isEmpty { try send(batch) }
        try rejects.flush()
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
        return String(validating: bytes, as: UTF8.self) != nil
    }
}
