import Crypto

/// How one HTTP SMS gateway wants a message, and how it answers: the gateway's side of the configuration, turned
/// into a request builder and an answer reader. Pure: the transport sends what this builds.
///
/// ```swift
/// let request = dialect.request(for: SubmitContent(to: "+8613800138000", text: "您好", id: "c1-2-…"), now: now)
/// dialect.read(status: 200, body: body)  // .accepted(gatewayID: "…") or .rejected(reason: "…")
/// ```
public struct GatewayDialect: Sendable {
    public enum BodyFormat: String, Sendable, Hashable, CaseIterable {
        case json, form, query
    }

    public enum Method: String, Sendable, Hashable, CaseIterable {
        case GET, POST, PUT
    }

    public enum Auth: Sendable, Hashable {
        case none
        case basic(username: String, password: String)
        case bearer(token: String)
        /// HMAC-SHA256 over the timestamp and the body, hex, in `header`; the timestamp (Unix seconds) in
        /// `timestampHeader`.
        case hmac(secret: String, header: String, timestampHeader: String)
    }

    /// Where Sparrow's idempotency key goes, and whether the gateway honours it (a repeated key is not a new
    /// message): only then may an ambiguous failure be retried.
    public struct Idempotency: Sendable, Hashable {
        public var header: String?
        public var field: String?
        public var honoured: Bool

        public init(header: String? = "Idempotency-Key", field: String? = nil, honoured: Bool = false) {
            self.header = header
            self.field = field
            self.honoured = honoured
        }
    }

    /// How to read an answer.
    public struct Reading: Sendable, Hashable {
        /// HTTP statuses that mean accepted (default 200–299).
        public var successStatuses: ClosedRange<Int>
        /// A body field that must equal a value for success (`status` = `ok`), when the status code alone is not
        /// enough (gateways that answer 200 to everything).
        public var successField: (path: String, equals: String)?
        /// Dotted JSON path of the gateway's message id.
        public var messageIDPath: String
        /// Dotted JSON path of the gateway's error text.
        public var errorPath: String

        public init(
            successStatuses: ClosedRange<Int> = 200...299, successField: (path: String, equals: String)? = nil,
            messageIDPath: String = "message_id", errorPath: String = "error"
        ) {
            self.successStatuses = successStatuses
            self.successField = successField
            self.messageIDPath = messageIDPath
            self.errorPath = errorPath
        }

        /// Whether `document` has the success field's value, or no success field is configured.
        func fieldSays(success document: JSONValue?) -> Bool {
            successField.map { document?[path: $0.path]?.text == $0.equals } ?? true
        }

        public static func == (lhs: Self, rhs: Self) -> Bool {
            lhs.successStatuses == rhs.successStatuses && lhs.successField?.path == rhs.successField?.path
                && lhs.successField?.equals == rhs.successField?.equals && lhs.messageIDPath == rhs.messageIDPath
                && lhs.errorPath == rhs.errorPath
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(successStatuses)
            hasher.combine(successField?.path)
            hasher.combine(successField?.equals)
            hasher.combine(messageIDPath)
            hasher.combine(errorPath)
        }
    }

    /// Whether the gateway takes the whole text and splits it itself, or Sparrow sends one request per part with
    /// the concatenation header (as hex UDH) in `udhField`.
    public enum Splitting: Sendable, Hashable {
        case byGateway
        case bySparrow(udhField: String)
    }

    public var url: String
    public var method: Method
    public var format: BodyFormat
    /// Request fields in order: name and template. Templates see `to`, `text`, `sender`, `id`, `udh` and the
    /// gateway's own `values`. In a JSON body a name is a dotted path: `messages.0.text` nests the text in an object
    /// in an array.
    public var fields: [(name: String, template: MessageTemplate)]
    /// Constant header lines, `Name: value`.
    public var headers: [String]
    public var auth: Auth
    public var idempotency: Idempotency
    public var reading: Reading
    public var splitting: Splitting
    public var sender: String?
    /// Constants the field templates may use (an account id, a channel).
    public var values: TemplateValues
    /// How the gateway takes several messages in one request; nil: one message a request.
    public var batch: Batch?
    /// A provider's own API, which builds and reads the requests instead of the fields above; nil for an API
    /// described by them.
    public var provider: Provider?

    /// The providers whose APIs Sparrow speaks natively: signed requests, approved templates, results per number.
    public enum Provider: Sendable, Hashable {
        case tencent(TencentSMS)
        case aliyun(AlibabaSMS)
    }

    public init(
        url: String, method: Method = .POST, format: BodyFormat, fields: [(name: String, template: MessageTemplate)],
        headers: [String] = [], auth: Auth = .none, idempotency: Idempotency = Idempotency(),
        reading: Reading = Reading(), splitting: Splitting = .byGateway, sender: String? = nil,
        values: TemplateValues = [:], batch: Batch? = nil, provider: Provider? = nil
    ) {
        self.provider = provider
        self.url = url
        self.method = method
        self.format = format
        self.fields = fields
        self.headers = headers
        self.auth = auth
        self.idempotency = idempotency
        self.reading = reading
        self.splitting = splitting
        self.sender = sender
        self.values = values
        self.batch = batch
    }

    /// The fields every format sends when a configuration names none.
    public static func defaultFields(sender: Bool) throws(TemplateError) -> [(name: String, template: MessageTemplate)]
    {
        var names = ["to", "text", "id"]
        if sender { names.insert("sender", at: 2) }
        var fields: [(name: String, template: MessageTemplate)] = []
        for name in names { fields.append((name, try MessageTemplate("{{\(name)}}"))) }
        return fields
    }

    /// The variables a field template may use.
    public static let variables = ["to", "text", "sender", "id", "udh"]

    /// The HTTP request for one submit (the whole message, or one part of it when Sparrow splits).
    /// - Returns: the request, or the first variable a field needed and did not have.
    public func request(for content: SubmitContent, now: Timestamp) -> Result<EncodedRequest, MissingVariable> {
        let variables = variables(for: content)
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(fields.count + 1)
        for (name, template) in fields {
            switch template.render(variables) {
            case .success(let value): pairs.append((name, value))
            case .failure(let missing): return .failure(missing)
            }
        }
        if let field = idempotency.field, !pairs.contains(where: { $0.0 == field }) {
            pairs.append((field, content.id))
        }
        let body: RequestBody =
            if format == .json, pairs.contains(where: { $0.0.utf8.contains(UInt8(ascii: ".")) }) {
                .json(Self.document(pairs))
            } else {
                .pairs(pairs)
            }
        return .success(encode(body, key: content.id, now: now))
    }

    /// What a request carries before it is encoded: fields in order, or a JSON document built from dotted paths.
    enum RequestBody {
        case pairs([(String, String)])
        case json(JSONValue)
    }

    /// The variables a field template sees for `content`.
    func variables(for content: SubmitContent) -> TemplateValues {
        var variables = values
        variables.reserveCapacity(adding: 5)  // one copy of the configured values, none as the five below are added
        variables["to"] = content.to
        variables["text"] = content.text
        variables["id"] = content.id
        variables["sender"] = sender
        variables["udh"] = content.udh
        return variables
    }

    /// A JSON object with each value at its field's dotted path (`messages.0.text`).
    static func document(_ pairs: [(String, String)]) -> JSONValue {
        var document = JSONValue.object([])
        for (path, value) in pairs { document.set(.string(value), at: path) }
        return document
    }

    /// The request with `body` encoded in the dialect's format, its headers, its idempotency key (when there is
    /// one) and its authentication.
    func encode(_ body: RequestBody, key: String?, now: Timestamp) -> EncodedRequest {
        var requestURL = url
        var bytes: [UInt8] = []
        var lines = headers
        lines.reserveCapacity(headers.count + 3)  // content type, idempotency key, authorization
        switch (format, body) {
        case (.json, .pairs(let pairs)):
            var json = JSONWriter()
            json.object { object in
                for (name, value) in pairs { object.field(named: name, value) }
            }
            bytes = json.bytes
            lines.append("Content-Type: application/json")
        case (.json, .json(let document)):
            var json = JSONWriter()
            json.element(document)
            bytes = json.bytes
            lines.append("Content-Type: application/json")
        case (.form, .pairs(let pairs)):
            bytes = Array(FormEncoding.encode(pairs).utf8)
            lines.append("Content-Type: application/x-www-form-urlencoded")
        case (.query, .pairs(let pairs)):
            requestURL += (url.contains("?") ? "&" : "?") + FormEncoding.encode(pairs)
        case (.form, .json), (.query, .json):
            preconditionFailure("only JSON bodies are built from paths")
        }
        // The lines that are the same for every message first, so that the transport can keep them between requests.
        switch auth {
        case .none, .hmac:
            break
        case .basic(let username, let password):
            lines.append("Authorization: Basic " + Base64.encode(Array("\(username):\(password)".utf8)))
        case .bearer(let token):
            lines.append("Authorization: Bearer \(token)")
        }
        if let header = idempotency.header, let key { lines.append("\(header): \(key)") }
        if case .hmac(let secret, let header, let timestampHeader) = auth {
            let timestamp = String(now.secondsSince1970)
            lines.append("\(timestampHeader): \(timestamp)")
            lines.append("\(header): " + Self.signature(secret: secret, timestamp: timestamp, body: bytes))
        }
        return EncodedRequest(url: requestURL, method: method, headers: lines, body: bytes)
    }

    /// HMAC-SHA256 of the timestamp followed by the body, as lower-case hex.
    public static func signature(secret: String, timestamp: String, body: [UInt8]) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
        mac.update(data: Array(timestamp.utf8))
        mac.update(data: body)
        return Hex.string(mac.finalize())
    }

    /// What an answer the gateway gave means.
    public func read(status: Int, body: [UInt8]) -> AnswerReading {
        read(status: status, body: body, document: try? JSONValue.parse(body), reading: reading)
    }

    /// What an answer (or one result of a batch's answer, as `document`) means, read as `reading` says.
    func read(status: Int, body: [UInt8], document: JSONValue?, reading: Reading) -> AnswerReading {
        let succeeded = reading.successStatuses.contains(status) && reading.fieldSays(success: document)
        if succeeded {
            return .accepted(gatewayID: document?[path: reading.messageIDPath]?.text)
        }
        return .refusal(status: status, reason: document?[path: reading.errorPath]?.text, body: body)
    }
}

/// What one submit carries: the number, the text (whole, or one part), Sparrow's id for the message, the
/// concatenation header when Sparrow splits, and for an approved template its id at the gateway and its parameters.
public struct SubmitContent: Sendable, Hashable {
    public var to: String
    public var text: String
    public var id: String
    /// Hex user data header of a part: `050003` + reference + total + sequence.
    public var udh: String?
    /// The approved template's id at this gateway, the values of its placeholders in order, and their names.
    public var templateID: String?
    public var parameters: [String]
    public var parameterNames: [String]

    public init(
        to: String, text: String, id: String, udh: String? = nil, templateID: String? = nil, parameters: [String] = [],
        parameterNames: [String] = []
    ) {
        self.to = to
        self.text = text
        self.id = id
        self.udh = udh
        self.templateID = templateID
        self.parameters = parameters
        self.parameterNames = parameterNames
    }
}

/// A request ready for the transport.
public struct EncodedRequest: Sendable, Hashable {
    public var url: String
    public var method: GatewayDialect.Method
    public var headers: [String]
    public var body: [UInt8]
}

/// What the gateway's answer said.
public enum AnswerReading: Sendable, Hashable {
    case accepted(gatewayID: String?)
    case rejected(status: Int, reason: String)
    /// The gateway takes the message later (a frequency limit, its marketing hours): it waits `for`, then goes again.
    case deferred(reason: String, for: Duration)
    /// The gateway refuses the number itself (it is on the gateway's blacklist): the message fails, and the number
    /// goes on the suppression list.
    case blacklisted(reason: String)
    /// The request failed on the gateway's side for now (an internal timeout, its request limit): it is sent again,
    /// as after a 503.
    case retry(reason: String)

    /// A refusal for `reason`; without one, for the body's first 200 bytes, or `HTTP STATUS` when it is empty.
    static func refusal(status: Int, reason: String?, body: [UInt8]) -> AnswerReading {
        let text = reason ?? String(decoding: body.prefix(200), as: UTF8.self)
        return .rejected(status: status, reason: text.isEmpty ? "HTTP \(status)" : text)
    }
}

/// The concatenation header of one part of a long message (3GPP TS 23.040, 8-bit reference), as hex.
public enum ConcatenationHeader {
    /// `050003` + reference + total + sequence, two hex digits each: `050003A70301`.
    /// - Precondition: `1 <= sequence <= total <= 255`.
    public static func hex(reference: UInt8, total: Int, sequence: Int) -> String {
        precondition((1...255).contains(total) && (1...total).contains(sequence), "part \(sequence) of \(total)")
        return Hex.string([0x05, 0x00, 0x03, reference, UInt8(total), UInt8(sequence)], uppercase: true)
    }

    /// A message's 8-bit reference, derived from its id so that every part (and every retry) carries the same one.
    public static func reference(for id: String) -> UInt8 {
        var hash: UInt32 = 2_166_136_261  // FNV-1a
        for byte in id.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return UInt8(truncatingIfNeeded: hash ^ (hash >> 8) ^ (hash >> 16) ^ (hash >> 24))
    }
}

/// `application/x-www-form-urlencoded`, as HTML forms and query strings write it.
public enum FormEncoding {
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    /// Percent-encodes all but the unreserved characters of RFC 3986; UTF-8 bytes each become `%XX`.
    static func escape(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
