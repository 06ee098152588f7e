import HTTPTypes
import Hummingbird
import NIOCore
import SparrowCore

// What Sparrow's two listeners (the receipts webhook, the flows' events) do alike with a request and an answer.

extension Request {
    /// The body, at most `limit` bytes: a larger one is refused with 413, from `Content-Length` before anything is
    /// read when the request gives one.
    func collectedBody(upTo limit: Int) async throws(Rejection) -> [UInt8] {
        if let length = headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw .tooLarge(limit)
        }
        do {
            return Array(try await body.collect(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw .tooLarge(limit)  // chunked, without a length
        } catch {
            throw .unreadableBody
        }
    }
}

extension WebhookAuthenticator {
    /// Checks the credentials `request` carries for `body` (a bearer token, or Sparrow's signature headers).
    func check(_ request: Request, body: [UInt8], now: Timestamp) throws(Rejection) {
        do throws(WebhookAuthenticator.Refusal) {
            try check(
                authorization: request.headers[.authorization], timestamp: request.headers[.sparrowTimestamp],
                signature: request.headers[.sparrowSignature], body: body, now: now)
        } catch {
            throw Rejection(error)
        }
    }
}

extension Response {
    /// A JSON object, written by `write`.
    static func json(_ status: HTTPResponse.Status, _ write: (inout JSONWriter) -> Void) -> Response {
        var json = JSONWriter(capacity: 64)
        json.object(write)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}
