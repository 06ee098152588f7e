/// Why an event could not be read.
public struct OrderEventError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(_ message: String) { self.message = message }
}

extension OrderEvent {
    /// The topics Sparrow reads, by platform: Shopify's webhook topics, and Taobao's trade, refund and logistics
    /// message topics.
    public static let shopifyTopics: Set<String> = [
        "orders/create", "orders/updated", "orders/paid", "orders/cancelled", "orders/fulfilled", "fulfillments/create",
        "fulfillments/update", "checkouts/create", "checkouts/update",
    ]

    /// The fields the decoders give an order (some only from one platform), and `buyer_phone`, which a flow's message
    /// to someone else than the buyer has: what a flow's template may use.
    public static let fieldNames: Set<String> = [
        "order", "number", "phone", "name", "nickname", "amount", "items", "city", "email", "tracking", "carrier_name",
        "checkout_url", "closes_at", "rating", "refund", "buyer_phone",
    ]

    /// Reads one event of `topic` from its payload.
    /// - Parameters:
    ///   - id: the event's id as its transport gave it (`X-Shopify-Webhook-Id`, a message's `id`); without one, an id
    ///     is made from the topic, the order and the payload's own time, the same on every replay.
    ///   - at: when it happened, as its transport said; without it, the payload's time.
    ///   - zoneOffset: seconds east of UTC of times written without an offset (Taobao writes Beijing time).
    /// - Returns: nil for a logistics step no flow waits for (a parcel leaving a depot).
    /// - Throws: `OrderEventError` for an unknown topic, or a payload without its order or its time.
    public static func decode(
        topic: String, id: String?, at: Timestamp?, payload: JSONValue, zoneOffset: Int = 8 * 3600
    ) throws(OrderEventError) -> OrderEvent? {
        let read: Read?
        if topic.hasPrefix("taobao_") {
            read = try taobao(topic, payload)
        } else if shopifyTopics.contains(topic) {
            read = try shopify(topic, payload)
        } else {
            throw OrderEventError("unknown topic '\(topic)'")
        }
        guard let read else { return nil }
        let source = topic.hasPrefix("taobao_") ? "taobao" : "shopify"
        guard let time = at ?? read.time.flatMap({ timestamp($0, zoneOffset: zoneOffset) }) else {
            throw OrderEventError("\(topic): no time in the event (\(read.timeKeys))")
        }
        var fields = read.fields
        if let closes = fields["closes_at"] {
            fields["closes_at"] = timestamp(closes, zoneOffset: zoneOffset)?.description
        }
        let madeID = "\(topic):\(read.order):\(read.time ?? time.description)"
        return OrderEvent(
            source: source, id: id ?? madeID, order: read.order, kind: read.kind, at: time, fields: fields)
    }

    /// Reads a record of an event log (`sparrow flows --stdin`): `{"topic": …, "id": …, "at": …, "payload": {…}}`,
    /// where Taobao's messages may carry `content` (an object, or JSON in a string, as Taobao sends it) and
    /// `pub_time` instead.
    public static func decode(record bytes: some Collection<UInt8>, zoneOffset: Int = 8 * 3600) throws(OrderEventError)
        -> OrderEvent?
    {
        let record: JSONValue
        do {
            record = try JSONValue.parse(bytes)
        } catch {
            throw OrderEventError("not JSON: \(error)")
        }
        guard case .object = record else { throw OrderEventError("a record must be a JSON object") }
        guard let topic = record[path: "topic"]?.text else { throw OrderEventError("the record has no topic") }
        var payload = record[path: "payload"] ?? record[path: "content"]
        if case .string(let text) = payload {
            do {
                payload = try JSONValue.parse(Array(text.utf8))
            } catch {
                throw OrderEventError("content is not JSON: \(error)")
            }
        }
        guard let payload, case .object = payload else { throw OrderEventError("the record has no payload object") }
        let at = (record[path: "at"] ?? record[path: "pub_time"])?.text
        var time: Timestamp?
        if let at {
            guard let parsed = timestamp(at, zoneOffset: zoneOffset) else {
                throw OrderEventError("'at' is not a time: '\(at)'")
            }
            time = parsed
        }
        return try decode(
            topic: topic, id: record[path: "id"]?.text, at: time, payload: payload, zoneOffset: zoneOffset)
    }

    private struct Read {
        var order: String
        var kind: Kind
        var time: String?
        var timeKeys: String
        var fields: [String: String]
    }

    private static func shopify(_ topic: String, _ payload: JSONValue) throws(OrderEventError) -> Read? {
        var fields: [String: String] = [:]
        fields["phone"] = payload.firstText(
            "phone", "customer.phone", "shipping_address.phone", "billing_address.phone", "destination.phone")
        fields["name"] = payload.firstText(
            "customer.first_name", "shipping_address.first_name", "billing_address.first_name")
        fields["amount"] = payload.firstText("total_price")
        fields["city"] = payload.firstText("shipping_address.city", "destination.city")
        fields["email"] = payload.firstText("email", "customer.email")
        fields["number"] = payload.firstText("name")
        fields["tracking"] = payload.firstText("tracking_number")
        fields["carrier_name"] = payload.firstText("tracking_company")
        fields["checkout_url"] = payload.firstText("abandoned_checkout_url")
        if case .array(let items) = payload[path: "line_items"] {
            fields["items"] = items.compactMap { $0[path: "title"]?.text }.joined(separator: "、")
        }
        let kind: Kind
        let order: String?
        switch topic {
        case "orders/create": (kind, order) = (.created, payload.firstText("id"))
        case "orders/updated": (kind, order) = (.updated, payload.firstText("id"))
        case "orders/paid": (kind, order) = (.paid, payload.firstText("id"))
        case "orders/cancelled": (kind, order) = (.closed, payload.firstText("id"))
        case "orders/fulfilled", "fulfillments/create": (kind, order) = (.shipped, payload.firstText("order_id", "id"))
        case "fulfillments/update":
            switch payload.firstText("shipment_status") {
            case "out_for_delivery": kind = .inCity
            case "delivered": kind = .signed
            case "in_transit", "confirmed", "label_printed", "label_purchased", nil: kind = .shipped
            default: return nil  // attempted delivery, failure: no flow of ours waits for them
            }
            order = payload.firstText("order_id")
        default:  // checkouts/create, checkouts/update
            kind = payload[path: "completed_at"]?.text == nil ? .checkout : .paid
            order = payload.firstText("token", "id").map { "checkout-\($0)" }
        }
        guard let order else { throw OrderEventError("\(topic): the payload names no order (id)") }
        fields["order"] = fields["number"] ?? order
        return Read(
            order: order, kind: kind, time: payload.firstText("updated_at", "processed_at", "created_at"),
            timeKeys: "updated_at, processed_at, created_at", fields: fields)
    }

    private static func taobao(_ topic: String, _ payload: JSONValue) throws(OrderEventError) -> Read? {
        let kind: Kind
        switch topic {
        case "taobao_trade_TradeCreate": kind = .created
        case "taobao_trade_TradeBuyerPay": kind = .paid
        case "taobao_trade_TradeSellerShip", "taobao_trade_TradePartlySellerShip": kind = .shipped
        case "taobao_trade_TradeSuccess": kind = .completed
        case "taobao_trade_TradeClose": kind = .closed
        case "taobao_trade_TradeRated": kind = .rated
        case "taobao_refund_RefundCreated": kind = .refundRequested
        case "taobao_refund_RefundSuccess": kind = .refunded
        case "taobao_logistics_LogsticDetailTrace":
            switch payload.firstText("action") {
            case "CONSIGN": kind = .shipped
            case "SENT_CITY": kind = .inCity
            case "SIGNED": kind = .signed
            default: return nil
            }
        case "taobao_trade_TradeModifyFee", "taobao_trade_TradeChanged", "taobao_trade_TradeLogisticsAddressChanged":
            kind = .updated
        default:
            throw OrderEventError("unknown topic '\(topic)'")
        }
        guard let order = payload.firstText("tid") else {
            throw OrderEventError("\(topic): the payload names no order (tid)")
        }
        var fields: [String: String] = ["order": order]
        fields["phone"] = payload.firstText("receiver_mobile", "phone", "mobile")
        fields["name"] = payload.firstText("receiver_name")
        fields["nickname"] = payload.firstText("buyer_nick")
        fields["amount"] = payload.firstText("payment", "total_fee")
        fields["city"] = payload.firstText("receiver_city")
        fields["items"] = payload.firstText("title")
        fields["closes_at"] = payload.firstText("timeout_action_time")
        fields["rating"] = payload.firstText("result", "rate")
        fields["tracking"] = payload.firstText("out_sid")
        fields["carrier_name"] = payload.firstText("company_name")
        fields["refund"] = payload.firstText("refund_fee")
        return Read(
            order: order, kind: kind, time: payload.firstText("modified", "time", "pay_time", "created"),
            timeKeys: "modified, time, pay_time, created", fields: fields)
    }

    /// An RFC 3339 time, or a local `2026-12-07 10:00:00` `zoneOffset` seconds east of UTC.
    static func timestamp(_ text: String, zoneOffset: Int) -> Timestamp? {
        var text = text
        return text.withUTF8 { Timestamp.parse($0, localOffset: zoneOffset) }
    }
}

extension JSONValue {
    /// The first of `paths` that holds a non-empty scalar, as text.
    fileprivate func firstText(_ paths: String...) -> String? {
        paths.lazy.compactMap { self[path: $0]?.text }.first { !$0.isEmpty }
    }
}
