/// What a delivery receipt says about a message.
public enum ReceiptStatus: String, Sendable, Hashable, CaseIterable {
    /// Intermediate: the gateway or the carrier has the message (`sent`, `queued`, `ACCEPTD`, `ENROUTE`).
    case accepted
    /// Final: the handset has it.
    case delivered
    /// Final: it will not arrive (`failed`, `undelivered`, `UNDELIV`, `REJECTD`).
    case undelivered
    /// Final: its validity period ran out.
    case expired

    /// Whether no later receipt can change what this one says.
    public var isFinal: Bool { self != .accepted }
}

/// How one gateway writes its delivery receipts: the fields that hold the gateway's message id, the status and the
/// error, what its status words mean, and the answer it expects once they are taken.
///
/// The standard mapping reads Sparrow's gateway simulator (`{"message_id","to","status","error"}`), Twilio's
/// status callbacks (`MessageSid`, `MessageStatus`, `ErrorCode`), Jasmin's (`id`, `message_status`, `err`) and
/// SMPP/Kannel status words (`DELIVRD`, `UNDELIV`, `EXPIRED`, `REJECTD`). Words are compared trimmed,
/// case-insensitively, with full-width forms read as ASCII (`ｄｅｌｉｖｅｒｅｄ` is `DELIVERED`).
///
/// ```swift
/// let mapping = ReceiptMapping(idFields: ["data.id"], statusFields: ["data.state"], words: [.delivered: ["OK"]])
/// mapping.status(of: "ok")       // .delivered
/// mapping.status(of: "DELIVRD")  // .delivered: the standard words still apply
/// ```
public struct ReceiptMapping: Sendable, Hashable {
    /// Fields that may hold the gateway's message id, tried in order.
    public var idFields: [String]
    /// Fields that may hold the status word, tried in order.
    public var statusFields: [String]
    /// Fields that may hold the gateway's error code or text, tried in order.
    public var errorFields: [String]
    /// The dotted path of the array that holds the receipts, for a gateway that posts several in one JSON object
    /// (`results`); nil when it posts one object, or a JSON array of them, at a time.
    public var listPath: String?
    /// Fields that may hold the recipient's number, for a gateway whose receipts name the batch a message went in
    /// rather than the message: the message is then named by the batch's id and its number
    /// (`GatewayDialect.batchMessageID`). Nil when receipts name each message.
    public var recipientFields: [String]?
    /// The region of a number such receipts write without its country code (Alibaba Cloud's `13800138000`).
    public var recipientRegion: String?
    /// The body of the 200 that acknowledges the gateway's receipts, for a gateway that checks it
    /// (`{"result":0,"errmsg":"OK"}`); nil for Sparrow's own answer.
    public var answer: String?
    /// Folded status words and what they mean.
    private var words: [String: ReceiptStatus]

    /// The words every mapping knows.
    public static let standardWords: [ReceiptStatus: [String]] = [
        .accepted: [
            "accepted", "ACCEPTD", "ENROUTE", "sent", "sending", "queued", "buffered", "submitted", "scheduled",
        ],
        .delivered: ["delivered", "DELIVRD", "read"],
        .undelivered: ["undelivered", "failed", "UNDELIV", "rejected", "REJECTD", "DELETED", "canceled"],
        .expired: ["expired"],
    ]

    /// The mapping of a gateway whose configuration says nothing about receipts, and of `POST /dlr`.
    public static let standard = ReceiptMapping()

    /// - Parameter extraWords: words of the gateway's own, added to `standardWords`; a word given here overrides
    ///   its standard meaning.
    /// - Precondition: no word is listed under two statuses in `extraWords`.
    public init(
        idFields: [String] = ["message_id", "MessageSid", "id"],
        statusFields: [String] = ["status", "MessageStatus", "message_status", "stat"],
        errorFields: [String] = ["error", "ErrorCode", "err"], recipientFields: [String]? = nil,
        recipientRegion: String? = nil, listPath: String? = nil, answer: String? = nil,
        words extraWords: [ReceiptStatus: [String]] = [:]
    ) {
        self.recipientFields = recipientFields
        self.recipientRegion = recipientRegion
        self.idFields = idFields
        self.statusFields = statusFields
        self.errorFields = errorFields
        self.listPath = listPath
        self.answer = answer
        var words: [String: ReceiptStatus] = [:]
        for (status, list) in Self.standardWords {
            for word in list { words[Self.folded(word)] = status }
        }
        var extra: [String: ReceiptStatus] = [:]
        for (status, list) in extraWords {
            for word in list {
                let folded = Self.folded(word)
                precondition(
                    extra[folded, default: status] == status, "status word '\(word)' is listed under two statuses")
                extra[folded] = status
            }
        }
        self.words = words.merging(extra) { _, own in own }
    }

    /// What `word` means to this gateway, or nil when the mapping does not list it.
    public func status(of word: some StringProtocol) -> ReceiptStatus? {
        words[Self.folded(word)]
    }

    /// A status word as the mapping compares it: trimmed, full-width forms read as ASCII, upper case.
    public static func folded(_ word: some StringProtocol) -> String {
        KeywordFolding.fold(word)
    }
}

/// A delivery receipt as the gateway reported it.
public struct DeliveryReceipt: Sendable, Hashable {
    /// The id the gateway gave the message when it accepted it.
    public var gatewayMessageID: String
    public var status: ReceiptStatus
    /// The gateway's error code or text, when it gave one.
    public var error: String?

    public init(gatewayMessageID: String, status: ReceiptStatus, error: String? = nil) {
        self.gatewayMessageID = gatewayMessageID
        self.status = status
        self.error = error
    }

    /// Reads a receipt out of a request's fields with a gateway's mapping.
    ///
    /// ```swift
    /// let fields = try WebhookFields(body: Array(#"{"message_id":"sim-1","status":"failed","error":"UNDELIV"}"#.utf8))
    /// try DeliveryReceipt(fields, mapping: .standard)  // sim-1, .undelivered, "UNDELIV"
    /// ```
    /// - Throws: `ReceiptError`: `missing-field` without a message id or a status, `unknown-status` for a word the
    ///   mapping does not list.
    public init(_ fields: WebhookFields, mapping: ReceiptMapping) throws(ReceiptError) {
        guard let id = fields.first(of: mapping.idFields) else {
            throw ReceiptError(.missingField, "no message id (looked for \(mapping.idFields.joined(separator: ", ")))")
        }
        guard let word = fields.first(of: mapping.statusFields) else {
            throw ReceiptError(.missingField, "no status (looked for \(mapping.statusFields.joined(separator: ", ")))")
        }
        guard let status = mapping.status(of: word) else {
            throw ReceiptError(
                .unknownStatus, "unknown status '\(word.prefix(40))'; map it in the gateway's receipts.states")
        }
        var messageID = id
        if let recipientFields = mapping.recipientFields {
            guard let number = fields.first(of: recipientFields) else {
                throw ReceiptError(
                    .missingField, "no recipient (looked for \(recipientFields.joined(separator: ", ")))")
            }
            messageID = GatewayDialect.batchMessageID(
                batch: id, number: Self.international(number, region: mapping.recipientRegion))
        }
        self.init(gatewayMessageID: messageID, status: status, error: fields.first(of: mapping.errorFields))
    }
}

extension DeliveryReceipt {
    /// A receipt's number as an international one: as written when it starts with `+`, else read as a national
    /// number of `region` when it is a valid one, else taken to be international without its `+`.
    static func international(_ number: String, region: String?) -> String {
        if !number.hasPrefix("+"), let region,
            case .success(let parsed) = PhoneNumberParser.parse(number, defaultRegion: region)
        {
            return parsed.number.e164
        }
        return number
    }
}

/// The receipts of one webhook request: one receipt, or a list that gateways such as Tencent Cloud's and Alibaba
/// Cloud's post as a JSON array, each item read on its own so that one unreadable item does not refuse the rest.
///
/// ```swift
/// let body = Array(#"[{"id":"a","status":"DELIVRD"},{"id":"b","status":"?"}]"#.utf8)
/// try DeliveryReceipts(body: body, mapping: .standard)  // .list: a delivered, then an unknown-status failure
/// ```
public enum DeliveryReceipts: Sendable {
    case one(DeliveryReceipt)
    case list([Result<DeliveryReceipt, ReceiptError>])

    /// Reads a request's body and query with a gateway's mapping (see `WebhookFields.items`).
    /// - Throws: `ReceiptError` when the body is malformed, or when it holds one receipt that cannot be read.
    public init(body: [UInt8], query: String? = nil, mapping: ReceiptMapping) throws(ReceiptError) {
        switch try WebhookFields.items(body: body, query: query, listPath: mapping.listPath) {
        case .one(let fields):
            self = .one(try DeliveryReceipt(fields, mapping: mapping))
        case .list(let items):
            self = .list(
                items.map { item in
                    item.flatMap { fields in
                        Result { () throws(ReceiptError) in try DeliveryReceipt(fields, mapping: mapping) }
                    }
                })
        }
    }
}
