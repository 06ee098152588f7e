import HTTPTypes
import Hummingbird
import NIOCore
import SparrowCore

/// The answer styles of the three example dialects, told apart by the request's path.
enum Dialect {
    /// `…/Messages.json`: Twilio's Messages resource answers 201 with the message's `sid`.
    case twilio
    /// `/cgi-bin/sendsms`: Kannel answers 202 with a line of text.
    case kannel
    /// Anything else: a generic JSON API.
    case json

    init(path: String) {
        if path.hasSuffix("/Messages.json") {
            self = .twilio
        } else if path.hasSuffix("/cgi-bin/sendsms") {
            self = .kannel
        } else {
            self = .json
        }
    }

    /// The message id as this dialect shows it to the client, and in receipts.
    func visibleID(_ messageID: String) -> String {
        self == .twilio ? "SM" + messageID : messageID
    }

    func acceptance(messageID: String) -> Response {
        let (status, contentType, text): (HTTPResponse.Status, String, String) =
            switch self {
            case .twilio: (.created, "application/json", #"{"sid":"\#(visibleID(messageID))","status":"queued"}"#)
            case .kannel: (.accepted, "text/plain", "0: Accepted for delivery")
            case .json: (.ok, "application/json", #"{"status":"ok","message_id":"\#(messageID)"}"#)
            }
        return Response(
            status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The fields of a submit, from its query string and its JSON or form body, whatever the dialect.
struct RequestFields {
    private(set) var values: [String: String] = [:]

    init(query: String?, body: ByteBuffer) {
        if let query { add(form: query) }
        let bytes = Array(body.readableBytesView)
        if bytes.first == UInt8(ascii: "{"), case .object(let members)? = try? JSONValue.parse(bytes) {
            for member in members { values[member.key] = member.value.text }
        } else {
            add(form: String(decoding: bytes, as: UTF8.self))
        }
    }

    /// The number the message is for, under the names the dialects use.
    var recipient: String? {
        values["to"] ?? values["To"] ?? values["phone"] ?? values["mobile"]
    }

    private mutating func add(form: String) {
        for pair in form.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first.flatMap({ Self.decode($0) }) else { continue }
            values[name] = parts.count == 2 ? Self.decode(parts[1]) : ""
        }
    }

    private static func decode(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(0x20)
            case UInt8(ascii: "%"):
                guard let high = iterator.next(), let low = iterator.next(),
                    let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
                else { return nil }
                bytes.append(value)
            default: bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
