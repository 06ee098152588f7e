import HTTPTypes
import Hummingbird
import NIOCore
import SparrowCore

/// The numbers of a request that carries several messages, in the shapes of the batch examples: `to` as a JSON
/// array (Sinch), `messages[]` with `to` (Jasmin) or `destinations[].to` (Infobip), or numbers joined by commas in a
/// form's or query's `mobile` or `to` (Yunpian). Nil for a request of one message.
///
/// A request is read as a batch only when its path names one (`/v1/batch`, Sinch's `/batches`, Jasmin's `/sendbatch`,
/// Yunpian's `batch_send.json`) or its JSON opens a list of numbers or messages, so that a single message's request is
/// not parsed twice.
struct BatchRequest {
    var numbers: [String]

    private static let lists = [Array(#""to":["#.utf8), Array(#""messages":["#.utf8)]
    private static let batchWord = Array("batch".utf8)

    /// Whether `haystack` holds `needle`, looked for byte by byte: `String.contains` allocates, and this runs for
    /// every request.
    static func contains(_ haystack: some Collection<UInt8>, _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        var start = haystack.startIndex
        for _ in 0...(haystack.count - needle.count) {
            if zip(haystack[start...], needle).allSatisfy({ $0 == $1 }) { return true }
            start = haystack.index(after: start)
        }
        return false
    }

    init?(path: String, query: String?, body: ByteBuffer) {
        guard Self.contains(path.utf8, Self.batchWord) || Self.lists.contains(where: { body.contains($0) })
        else { return nil }
        let bytes = Array(body.readableBytesView)
        if JSONValue.opensContainer(bytes) {
            guard let document = try? JSONValue.parse(bytes) else { return nil }
            if case .array(let numbers)? = document[path: "to"] {
                self.numbers = numbers.compactMap(\.text)
            } else if case .array(let messages)? = document[path: "messages"] {
                self.numbers = messages.flatMap { message -> [String] in
                    switch message[path: "to"] ?? message[path: "destinations"] {
                    case .array(let recipients)?: recipients.compactMap { $0.text ?? $0[path: "to"]?.text }
                    case let single?: single.text.map { [$0] } ?? []
                    case nil: []
                    }
                }
            } else {
                return nil
            }
        } else {
            let fields = RequestFields(query: query, body: body)
            guard let list = fields.values["mobile"] ?? fields.values["to"], list.contains(",") else { return nil }
            numbers = list.split(separator: ",").map(String.init)
        }
    }

    /// The answer: `{"status":"ok","batch_id":…,"results":[{"to","message_id","status":"ok"} or {"to","status":
    /// "error","error"}]}`, a result per number in the request's order; nil ids are numbers refused.
    static func acceptance(batchID: String, numbers: [String], messageIDs: [String?]) -> Response {
        var json = JSONWriter(capacity: 64 + 64 * numbers.count)
        json.object { object in
            object.field("status", "ok")
            object.field("batch_id", batchID)
            object.field("results") { results in
                results.array { array in
                    for (number, messageID) in zip(numbers, messageIDs) {
                        array.object { result in
                            result.field("to", number)
                            if let messageID {
                                result.field("message_id", messageID)
                                result.field("status", "ok")
                            } else {
                                result.field("status", "error")
                                result.field("error", "invalid number")
                            }
                        }
                    }
                }
            }
        }
        return GatewaySimulator.jsonAnswer(json.bytes)
    }

    static func tooLarge(limit: Int) -> Response {
        Response(
            status: .badRequest, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"error":"a batch takes at most \#(limit) numbers"}"#)))
    }
}

extension ByteBuffer {
    /// Whether the readable bytes hold `needle`, found without allocating (the simulator looks at every request).
    func contains(_ needle: [UInt8]) -> Bool {
        withUnsafeReadableBytes { BatchRequest.contains($0, needle) }
    }
}
