// The webhook's body parsers: fields from a JSON or form body (and a query string), then a delivery receipt with
// the standard mapping and an inbound reply. Each input is read as a body, and its first half also as a query.
import FuzzSupport
import SparrowCore

runFuzzer { input in
    let body = Array(input)
    let query = String(decoding: body.prefix(body.count / 2), as: UTF8.self)
    for fields in [try? WebhookFields(body: body), try? WebhookFields(body: body, query: query)] {
        guard let fields else { continue }
        _ = try? DeliveryReceipt(fields, mapping: .standard)
        _ = try? InboundReply(fields, defaultRegion: "CN")
    }
}
