extension GatewayDialect {
    /// How a gateway takes several messages in one request, and how its answer speaks of each.
    ///
    /// ```yaml
    /// batch: { max: 1000, list: to }                            # Sinch: {"to": ["+46…", "+46…"], "body": "…"}
    /// batch: { max: 100, list: messages, group: any }           # Jasmin: {"messages": [{"to": …, "content": …}]}
    /// ```
    public struct Batch: Sendable {
        public enum Grouping: Sendable, Hashable {
            /// Messages with the same text share a request: the list holds their recipients, and the other fields
            /// are the same for all. In a form or a query the list is the numbers joined by `separator`.
            case sameText(separator: String)
            /// Any messages share a request: the list holds one object per message, built from the dialect's
            /// fields (JSON only).
            case anyText
        }

        /// Messages a request carries at most.
        public var max: Int
        /// The dotted path of the list in the request body (`to`, `messages`, `messages.0.destinations`).
        public var list: String
        public var grouping: Grouping
        /// With `sameText`: the fields of each recipient's object in the list (Infobip's `{to, messageId}`); empty,
        /// the list holds the numbers themselves.
        public var recipient: [(name: String, template: MessageTemplate)]
        /// How long a lane holds a batch that is not full for more messages to join it.
        public var linger: Duration
        /// Where the answer gives a result per message; nil: the answer is about the whole request.
        public var results: Results?

        public init(
            max: Int, list: String, grouping: Grouping = .sameText(separator: ","),
            recipient: [(name: String, template: MessageTemplate)] = [], linger: Duration = .milliseconds(20),
            results: Results? = nil
        ) {
            self.max = max
            self.list = list
            self.grouping = grouping
            self.recipient = recipient
            self.linger = linger
            self.results = results
        }

    }

    /// Where a batch's answer lists a result per message, and how to read one.
    public struct Results: Sendable, Hashable {
        /// The dotted path of the array of results.
        public var path: String
        /// The path, in a result, of its number: results are matched to messages by number (digits only). Without
        /// it they follow the request's order.
        public var number: String?
        /// How a result reads: its success field, message id and error, as paths inside the result.
        public var reading: Reading

        public init(path: String, number: String? = nil, reading: Reading = Reading()) {
            self.path = path
            self.number = number
            self.reading = reading
        }
    }

    /// The HTTP request that carries `contents` together, for its `attempt` (from 1: a provider signs each attempt
    /// anew). Batches carry no idempotency key: after a crash the same messages may not be grouped the same way.
    /// - Returns: the request, or the first variable a field needed and did not have.
    /// - Precondition: the dialect batches; `contents` holds 1 to `batch.max` messages, with one text when the
    ///   batch groups by text.
    public func request(
        batch contents: [SubmitContent], now: Timestamp, attempt: Int = 1
    ) -> Result<EncodedRequest, MissingVariable> {
        switch provider {
        case .tencent(let tencent)?: return tencent.request(batch: contents, now: now)
        case .aliyun(let aliyun)?: return aliyun.request(batch: contents, now: now, attempt: attempt)
        case nil: break
        }
        guard let batch, let first = contents.first, contents.count <= batch.max else {
            preconditionFailure("a batch of \(contents.count) for a dialect that takes \(batch?.max ?? 1)")
        }
        let body: RequestBody
        switch batch.grouping {
        case .sameText(let separator):
            var pairs: [(String, String)] = []
            switch render(fields.filter { $0.name != batch.list }, first) {
            case .success(let rendered): pairs = rendered
            case .failure(let missing): return .failure(missing)
            }
            if format == .json {
                var recipients: [JSONValue] = []
                recipients.reserveCapacity(contents.count)
                for content in contents {
                    if batch.recipient.isEmpty {
                        recipients.append(.string(content.to))
                    } else {
                        switch render(batch.recipient, content) {
                        case .success(let fields): recipients.append(Self.document(fields))
                        case .failure(let missing): return .failure(missing)
                        }
                    }
                }
                var document = Self.document(pairs)
                document.set(.array(recipients), at: batch.list)
                body = .json(document)
            } else {
                pairs.append((batch.list, contents.map(\.to).joined(separator: separator)))
                body = .pairs(pairs)
            }
        case .anyText:
            var messages: [JSONValue] = []
            messages.reserveCapacity(contents.count)
            for content in contents {
                switch render(fields, content) {
                case .success(let fields): messages.append(Self.document(fields))
                case .failure(let missing): return .failure(missing)
                }
            }
            var document = JSONValue.object([])
            document.set(.array(messages), at: batch.list)
            body = .json(document)
        }
        return .success(encode(body, key: nil, now: now))
    }

    /// `fields` rendered with the variables of `content`.
    private func render(
        _ fields: [(name: String, template: MessageTemplate)], _ content: SubmitContent
    ) -> Result<[(String, String)], MissingVariable> {
        let variables = variables(for: content)
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(fields.count)
        for (name, template) in fields {
            switch template.render(variables) {
            case .success(let value): pairs.append((name, value))
            case .failure(let missing): return .failure(missing)
            }
        }
        return .success(pairs)
    }

    /// What a batch's answer means for the request, or for each of its messages.
    public enum BatchReading: Sendable, Hashable {
        /// The answer is about the whole request: a refusal, or an acceptance that lists no result per message.
        case whole(AnswerReading)
        /// A reading per message, in the request's order; nil where the answer has no result for the message.
        case each([AnswerReading?])
    }

    /// What the answer to the batch `contents` means.
    public func read(status: Int, body: [UInt8], batch contents: [SubmitContent]) -> BatchReading {
        switch provider {
        case .tencent(let tencent)?: return tencent.read(status: status, body: body, batch: contents)
        case .aliyun(let aliyun)?: return .whole(aliyun.read(status: status, body: body))
        case nil: break
        }
        let document = try? JSONValue.parse(body)
        let whole = read(status: status, body: body, document: document, reading: reading)
        guard case .accepted = whole, let results = batch?.results else { return .whole(whole) }
        guard case .array(let entries)? = document?[path: results.path] else {
            // A success status with no list of results: the gateway refused the request in its body.
            let reason = document?[path: reading.errorPath]?.text ?? "the answer lists no result per message"
            return .whole(.rejected(status: status, reason: reason))
        }
        let matched: [JSONValue?]
        if let numberPath = results.number {
            var byNumber: [String: JSONValue] = [:]
            for entry in entries {
                if let number = entry[path: numberPath]?.text { byNumber[Self.digits(number)] = entry }
            }
            matched = contents.map { byNumber[Self.digits($0.to)] }
        } else {
            matched = contents.indices.map { entries.indices.contains($0) ? entries[$0] : nil }
        }
        let reading = results.reading
        return .each(
            matched.map { entry in
                entry.map { entry in
                    reading.fieldSays(success: entry)
                        ? .accepted(gatewayID: entry[path: reading.messageIDPath]?.text)
                        : .rejected(status: status, reason: entry[path: reading.errorPath]?.text ?? "refused")
                }
            })
    }

    /// How a message sent in a batch is named when the gateway names only the batch: the batch's id, `/`, and the
    /// number's digits (`01FC66621X/8613800138000`), which its receipts give too.
    public static func batchMessageID(batch: String, number: String) -> String {
        batch + "/" + digits(number)
    }

    /// A number's digits: how results and receipts are matched to messages, whatever the gateway writes around them.
    static func digits(_ number: String) -> String {
        String(number.unicodeScalars.filter { ("0"..."9").contains($0) })
    }
}
