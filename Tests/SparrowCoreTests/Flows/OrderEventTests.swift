import SparrowCore
import Testing

@Suite struct OrderEventTests {
    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func taobaoTradeMessagesBecomeOrderEventsInBeijingTime() throws {
        let event = try #require(
            try OrderEvent.decode(
                record: Array(
                    """
                    {"topic":"taobao_trade_TradeCreate","id":"m1","content":"{\\"tid\\":\\"2001\\",\\"buyer_nick\\":\\"小明\\",\\"payment\\":\\"59.00\\",\\"receiver_mobile\\":\\"13800138001\\",\\"created\\":\\"2026-12-01 10:00:00\\",\\"timeout_action_time\\":\\"2026-12-02 10:00:00\\"}"}
                    """.utf8)))
        #expect(event.source == "taobao")
        #expect(event.id == "m1")
        #expect(event.order == "2001")
        #expect(event.kind == .created)
        #expect(event.at == Timestamp(rfc3339: "2026-12-01T02:00:00Z"))
        #expect(event.fields["nickname"] == "小明")
        #expect(event.fields["phone"] == "13800138001")
        #expect(event.fields["amount"] == "59.00")
        #expect(event.fields["closes_at"] == "2026-12-02T02:00:00Z")
    }

    @Test(arguments: [
        ("taobao_trade_TradeBuyerPay", OrderEvent.Kind.paid), ("taobao_trade_TradeSellerShip", .shipped),
        ("taobao_trade_TradeSuccess", .completed), ("taobao_trade_TradeClose", .closed),
        ("taobao_refund_RefundCreated", .refundRequested), ("taobao_refund_RefundSuccess", .refunded),
        ("taobao_trade_TradeRated", .rated), ("taobao_trade_TradeModifyFee", .updated),
    ])
    func everyTaobaoTopicHasItsKind(topic: String, kind: OrderEvent.Kind) throws {
        let event = try OrderEvent.decode(
            topic: topic, id: nil, at: nil, payload: try Self.json(#"{"tid":"7","modified":"2026-12-01 10:00:00"}"#))
        #expect(event?.kind == kind)
        #expect(event?.id == "\(topic):7:2026-12-01 10:00:00")  // made from the payload: the same on every replay
    }

    @Test func logisticsStepsNoFlowWaitsForAreLeftOut() throws {
        func kind(_ action: String) throws -> OrderEvent.Kind? {
            try OrderEvent.decode(
                topic: "taobao_logistics_LogsticDetailTrace", id: "x", at: nil,
                payload: try Self.json(#"{"tid":"7","action":"\#(action)","time":"2026-12-01 10:00:00"}"#))?.kind
        }
        #expect(try kind("SENT_CITY") == .inCity)
        #expect(try kind("SIGNED") == .signed)
        #expect(try kind("CONSIGN") == .shipped)
        #expect(try kind("DEPARTURE") == nil)
        #expect(try kind("ARRIVAL") == nil)
    }

    @Test func shopifyWebhooksReadTheirOrderAndContact() throws {
        let order = try Self.json(
            """
            {"id":820982911946154508,"name":"#1001","total_price":"59.00","phone":null,
             "customer":{"first_name":"Jon","phone":"+14155550100"},"shipping_address":{"city":"Ottawa"},
             "line_items":[{"title":"Tea"},{"title":"Cup"}],"updated_at":"2026-12-01T10:00:00-05:00"}
            """)
        let created = try #require(try OrderEvent.decode(topic: "orders/create", id: "w1", at: nil, payload: order))
        #expect(created.source == "shopify")
        #expect(created.order == "820982911946154508")
        #expect(created.kind == .created)
        #expect(created.at == Timestamp(rfc3339: "2026-12-01T15:00:00Z"))
        #expect(created.fields["phone"] == "+14155550100")
        #expect(created.fields["name"] == "Jon")
        #expect(created.fields["order"] == "#1001")
        #expect(created.fields["items"] == "Tea、Cup")
        #expect(created.fields["city"] == "Ottawa")

        let fulfillment = try Self.json(
            #"{"id":1,"order_id":820982911946154508,"shipment_status":"out_for_delivery","updated_at":"2026-12-02T08:00:00Z"}"#
        )
        let update = try OrderEvent.decode(topic: "fulfillments/update", id: "w2", at: nil, payload: fulfillment)
        #expect(update?.order == "820982911946154508")
        #expect(update?.kind == .inCity)
    }

    @Test func badEventsSayWhatIsWrong() {
        #expect(throws: OrderEventError("unknown topic 'orders/exploded'")) {
            try OrderEvent.decode(topic: "orders/exploded", id: nil, at: nil, payload: .object([]))
        }
        #expect(throws: OrderEventError("taobao_trade_TradeCreate: the payload names no order (tid)")) {
            try OrderEvent.decode(
                topic: "taobao_trade_TradeCreate", id: nil, at: nil, payload: try Self.json(#"{"payment":"1"}"#))
        }
        #expect(throws: OrderEventError.self) { try OrderEvent.decode(record: Array("[1]".utf8)) }
        #expect(throws: OrderEventError.self) { try OrderEvent.decode(record: Array("{\"topic\":\"x\"".utf8)) }
        #expect(throws: OrderEventError.self) { try OrderEvent.decode(record: [0xFF, 0xFE]) }
    }

    @Test func laterEventsAddToTheOrder() {
        let created = OrderEvent(
            source: "taobao", id: "1", order: "7", kind: .created, at: Timestamp(secondsSince1970: 100),
            fields: ["phone": "13800138001", "amount": "59.00"])
        let paid = OrderEvent(
            source: "taobao", id: "2", order: "7", kind: .paid, at: Timestamp(secondsSince1970: 50),
            fields: ["amount": "¥1,259.00", "phone": ""])
        let order = FlowOrder(source: "taobao", id: "7", fields: [:], seen: 0, firstAt: created.at)
            .applying(created).applying(paid)
        #expect(order.hasSeen(.created) && order.hasSeen(.paid) && !order.hasSeen(.closed))
        #expect(order.phone == "13800138001")  // an empty field does not erase a known one
        #expect(order.amount == 1259)
        #expect(order.firstAt == Timestamp(secondsSince1970: 50))
    }

    /// The header Shopify sends, computed independently:
    /// `printf '%s' BODY | openssl dgst -sha256 -hmac hush -binary | base64`.
    @Test func shopifySignaturesAreCheckedAsShopifyComputesThem() {
        let body = Array(
            #"{"id":820982911946154508,"email":"jon@example.com","total_price":"59.00","phone":"+8613800138001"}"#.utf8)
        let header = "FcnsMtl0gmaCXzZdZz3ucprfcBfNwAQEqKEyuNrGAUw="
        #expect(ShopifyWebhookSignature.signature(body: body, secret: "hush") == header)
        #expect(ShopifyWebhookSignature.isValid(header: header, body: body, secret: "hush"))
        #expect(!ShopifyWebhookSignature.isValid(header: header, body: body, secret: "hush!"))
        #expect(!ShopifyWebhookSignature.isValid(header: header, body: body + [0x20], secret: "hush"))
        #expect(!ShopifyWebhookSignature.isValid(header: String(header.dropLast(4)), body: body, secret: "hush"))
        #expect(!ShopifyWebhookSignature.isValid(header: nil, body: body, secret: "hush"))
        #expect(!ShopifyWebhookSignature.isValid(header: "", body: body, secret: "hush"))
    }
}
