// The webhook's body parsers: fields from a JSON or form body (and a query string), then a delivery receipt with
// the standard mapping and an inbound reply, and the body's receipts as a list (a JSON array, or one at `results`).
// Each input is read as a body, and its first half also as a query.
import FuzzSupport
import SparrowCore

let listed = ReceiptMapping(listPath: "results")

runFuzzer { input in
    let body = Array(input)
    let query = String(decoding: body.prefix(body.count / 2), as: UTF8.self)
    for fields in [try? WebhookFields(body: body), try? WebhookFields(body: body, query: query)] {
        guard let fields else { continue }
        _ = try? DeliveryReceipt(fields, mapping: .standard)
        _ = try? InboundReply(fields, defaultRegion: "CN")
    }
    for mapping in [ReceiptMapping.standard, listed] {
        _ = try? DeliveryReceipts(body: body, query: query, mapping: mapping)
    }
}
