/// Something that happened to one order, as a flow sees it: a store platform's webhook or message, normalised.
///
/// ```swift
/// let event = try OrderEvent.decode(topic: "taobao_trade_TradeBuyerPay", id: nil, payload: payload)
/// event.kind   // .paid
/// event.order  // the trade's tid
/// ```
public struct OrderEvent: Sendable, Hashable {
    /// What happened. A rule is triggered by one kind and may be cancelled by others.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case created, paid, shipped
        /// The parcel reached the buyer's city (out for delivery).
        case inCity = "in-city"
        case signed, completed, closed
        /// A refund was asked for; `refunded` once it was paid back.
        case refundRequested = "refund-requested"
        case refunded
        /// The buyer rated the order (`rating` holds `good`, `neutral` or `bad`).
        case rated
        /// A checkout with contact details and no order yet (Shopify).
        case checkout
        /// The order's fields changed (its price, its address): it triggers nothing by itself.
        case updated
        /// A customer's birthday, from the daily pass over a rule's customers file (the "order" is the customer's year).
        case birthday

        /// Its bit in a set of kinds kept as one integer.
        public var bit: Int { 1 << Self.allCases.firstIndex(of: self)! }
    }

    /// Where it came from (`shopify`, `taobao`, or what a JSON Lines record names): ids are unique per source.
    public var source: String
    /// The event's own id, which deduplicates it.
    public var id: String
    public var order: String
    public var kind: Kind
    public var at: Timestamp
    /// What the event tells about the order: `phone`, `name`, `nickname`, `amount`, `items`, `city`, `closes_at`,
    /// `rating`, … Later events add to and overwrite an order's fields.
    public var fields: [String: String]

    public init(source: String, id: String, order: String, kind: Kind, at: Timestamp, fields: [String: String] = [:]) {
        self.source = source
        self.id = id
        self.order = order
        self.kind = kind
        self.at = at
        self.fields = fields
    }
}

/// An order as its events have told it so far: the fields of all of them, the kinds seen, and when it began.
public struct FlowOrder: Sendable, Hashable {
    public var source: String
    public var id: String
    public var fields: [String: String]
    /// The kinds of its events, as `OrderEvent.Kind.bit`s.
    public var seen: Int
    /// Its first event's time.
    public var firstAt: Timestamp
    /// Its latest event's time.
    public var lastAt: Timestamp

    public init(
        source: String, id: String, fields: [String: String], seen: Int, firstAt: Timestamp, lastAt: Timestamp? = nil
    ) {
        self.source = source
        self.id = id
        self.fields = fields
        self.seen = seen
        self.firstAt = firstAt
        self.lastAt = lastAt ?? firstAt
    }

    /// The order after `event`: its fields added (non-empty ones overwrite), its kind seen.
    public func applying(_ event: OrderEvent) -> FlowOrder {
        var next = self
        next.fields.merge(event.fields.filter { !$0.value.isEmpty }) { _, new in new }
        next.seen |= event.kind.bit
        next.firstAt = min(firstAt, event.at)
        next.lastAt = max(lastAt, event.at)
        return next
    }

    /// Whether an event of `kind` was seen for it.
    public func hasSeen(_ kind: OrderEvent.Kind) -> Bool { seen & kind.bit != 0 }

    /// The buyer's number as the events wrote it, if any.
    public var phone: String? { fields["phone"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The order's amount, when its events gave one that is a number.
    public var amount: Double? { fields["amount"].flatMap(Self.number) }

    /// When the store closes it unpaid, when its events say.
    public var closesAt: Timestamp? { fields["closes_at"].flatMap { Timestamp(rfc3339: $0) } }

    /// Its fields as a store keeps them: one JSON object, its keys sorted.
    package var storedFields: String {
        var json = JSONWriter()
        json.object { object in
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) { object.field(named: key, value) }
        }
        return String(decoding: json.bytes, as: UTF8.self)
    }

    /// Fields kept as `storedFields` wrote them; none from text that is not a JSON object.
    package static func fields(stored text: String?) -> [String: String] {
        guard let text, case .object(let members)? = try? JSONValue.parse(Array(text.utf8)) else { return [:] }
        return Dictionary(members.map { ($0.key, $0.value.text ?? "") }) { _, last in last }
    }

    /// `120.00`, `120`, `¥120.00`, `120.00元`, `1,299.00` → the number.
    static func number(_ text: String) -> Double? {
        let kept = text.unicodeScalars.filter { !["¥", "￥", "元", ",", " "].contains($0) }
        guard let value = Double(String(String.UnicodeScalarView(kept))), value.isFinite else { return nil }
        return value
    }
}
