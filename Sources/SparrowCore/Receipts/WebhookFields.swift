/// The fields of a request to Sparrow's webhook, whatever the gateway's style: a JSON object body (or a list of them,
/// see `items`), or an `application/x-www-form-urlencoded` body (told apart by the first byte that is not white
/// space, so a missing or wrong `Content-Type` does no harm), plus the query string.
///
/// JSON fields are found by dotted path (`data.id`, as the gateways' `response` keys are), form and query fields by
/// exact name; the body comes before the query. An empty value counts as absent.
///
/// ```swift
/// let fields = try WebhookFields(body: Array("MessageSid=SM1&MessageStatus=delivered".utf8))
/// fields["MessageStatus"]                       // "delivered"
/// fields.first(of: ["message_id", "MessageSid"])  // "SM1"
/// ```
public struct WebhookFields: Sendable {
    private let json: JSONValue?
    private let pairs: [(name: String, value: String)]

    /// What a request's body holds: the fields of one item, or a list of items from a JSON array.
    public enum Items: Sendable {
        case one(WebhookFields)
        /// Each element of the array, in order, read as an object with the query's fields after its own; an element
        /// that is not an object is a `malformed-body` failure of its own.
        case list([Result<WebhookFields, ReceiptError>])
    }

    /// Reads `body` and `query` (the part of the URL after `?`, still percent-encoded) as one item.
    /// - Throws: `ReceiptError` (`malformed-body`) for JSON that is not one object, or a form or query with a bad `%`
    ///   escape or invalid UTF-8.
    /// - Complexity: O(*n*) in the length of the body and the query.
    public init(body: [UInt8], query: String? = nil) throws(ReceiptError) {
        guard case .one(let fields) = try Self.items(body: body, query: query) else {
            throw ReceiptError(.malformedBody, "expected a JSON object")
        }
        self = fields
    }

    private init(json: JSONValue?, pairs: [(name: String, value: String)]) {
        self.json = json
        self.pairs = pairs
    }

    /// Reads a body that may carry several items: a JSON array is a list, and so is the array at `listPath` in a
    /// JSON object (`results`, as some gateways post their receipts); anything else is one item.
    ///
    /// ```swift
    /// let body = Array(#"[{"sid":"a","report_status":"SUCCESS"},{"sid":"b","report_status":"FAIL"}]"#.utf8)
    /// try WebhookFields.items(body: body)  // .list: two items, `sid` "a" and "b"
    /// ```
    /// - Throws: `ReceiptError` (`malformed-body`) when the body is not one JSON value or a valid form, the query is
    ///   not a valid form, or `listPath` is given and the JSON object holds no array there.
    public static func items(body: [UInt8], query: String? = nil, listPath: String? = nil) throws(ReceiptError)
        -> Items
    {
        var queryPairs: [(name: String, value: String)] = []
        if let query {
            guard let form = FormEncoding.decode(query.utf8) else {
                throw ReceiptError(.malformedBody, "bad query string: a bad % escape or invalid UTF-8")
            }
            queryPairs = form
        }
        guard JSONValue.opensContainer(body) else {
            guard let form = FormEncoding.decode(body) else {
                throw ReceiptError(.malformedBody, "not a form: a bad % escape or invalid UTF-8")
            }
            return .one(WebhookFields(json: nil, pairs: form + queryPairs))
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(body)
        } catch {
            throw ReceiptError(.malformedBody, "not JSON: \(error)")
        }
        var list = document
        if let listPath, case .object = document {
            guard let value = document[path: listPath], case .array = value else {
                throw ReceiptError(.malformedBody, "no list of receipts at '\(listPath)'")
            }
            list = value
        }
        guard case .array(let elements) = list else {
            return .one(WebhookFields(json: document, pairs: queryPairs))
        }
        return .list(
            elements.enumerated().map { index, element in
                guard case .object = element else {
                    return .failure(ReceiptError(.malformedBody, "item \(index) is not a JSON object"))
                }
                return .success(WebhookFields(json: element, pairs: queryPairs))
            })
    }

    /// The value of `field` as text (JSON numbers and booleans as written), or nil when it is absent, empty, null,
    /// an object or an array.
    public subscript(field: String) -> String? {
        if let value = json?[path: field]?.text, !value.isEmpty { return value }
        return pairs.first { $0.name == field && !$0.value.isEmpty }?.value
    }

    /// The value of the first of `fields` that is present.
    public func first(of fields: [String]) -> String? {
        for field in fields {
            if let value = self[field] { return value }
        }
        return nil
    }
}

extension FormEncoding {
    /// Splits `application/x-www-form-urlencoded` text into names and values, in order: `+` is a space and `%XX` a
    /// byte; a pair without `=` has an empty value.
    /// - Returns: nil when an escape is not two hex digits or the decoded bytes are not UTF-8.
    static func decode(_ bytes: some Collection<UInt8>) -> [(name: String, value: String)]? {
        var pairs: [(name: String, value: String)] = []
        for pair in bytes.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = unescape(parts[0]), let value = parts.count == 2 ? unescape(parts[1]) : "" else {
                return nil
            }
            pairs.append((name, value))
        }
        return pairs
    }

    private static func unescape(_ bytes: some Collection<UInt8>) -> String? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var iterator = bytes.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"):
                decoded.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(Hex.value(of:)),
                    let low = iterator.next().flatMap(Hex.value(of:))
                else { return nil }
                decoded.append(high << 4 | low)
            default:
                decoded.append(byte)
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }
}
