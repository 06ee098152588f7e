/// The fields of a request to Sparrow's webhook, whatever the gateway's style: a JSON object body, or an
/// `application/x-www-form-urlencoded` body (told apart by the first byte that is not white space, so a missing or
/// wrong `Content-Type` does no harm), plus the query string.
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

    /// Reads `body` and `query` (the part of the URL after `?`, still percent-encoded).
    /// - Throws: `ReceiptError` (`malformed-body`) for JSON that is not one object, or a form or query with a bad `%`
    ///   escape or invalid UTF-8.
    /// - Complexity: O(*n*) in the length of the body and the query.
    public init(body: [UInt8], query: String? = nil) throws(ReceiptError) {
        var pairs: [(name: String, value: String)] = []
        let first = body.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            let document: JSONValue
            do {
                document = try JSONValue.parse(body)
            } catch {
                throw ReceiptError(.malformedBody, "not a JSON object: \(error)")
            }
            guard case .object = document else { throw ReceiptError(.malformedBody, "expected a JSON object") }
            json = document
        } else {
            guard let form = FormEncoding.decode(body) else {
                throw ReceiptError(.malformedBody, "not a form: a bad % escape or invalid UTF-8")
            }
            json = nil
            pairs = form
        }
        if let query {
            guard let form = FormEncoding.decode(query.utf8) else {
                throw ReceiptError(.malformedBody, "bad query string: a bad % escape or invalid UTF-8")
            }
            pairs += form
        }
        self.pairs = pairs
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
