import Foundation
import SparrowCore
import SparrowStore
import SparrowTestSupport
import SparrowTransport
import Testing

@testable import SparrowReceipts

/// `sparrow flows`' listener over real HTTP, into a real store: signatures are checked on the raw body before
/// anything is parsed or kept.
@Suite(.timeLimit(.minutes(1))) struct FlowEventServerTests {
    struct Zones: ZoneRulesProvider {
        func rules(for identifier: String) -> ZoneRules? { .fixed(identifier, offset: 8 * 3600) }
    }

    static let scheduler = FlowScheduler(
        rules: [
            FlowRule(
                name: "unpaid", trigger: .created, cancelledBy: [.paid],
                steps: [.init(delay: 1800, template: try! MessageTemplate("x"))])
        ], schedule: FlowSchedule(quietHours: nil, outsideMarketingHours: nil), defaultRegion: "CN",
        defaultTimeZone: "Asia/Shanghai", zones: Zones())

    static let order =
        ##"{"id":450789469,"name":"#1001","total_price":"59.00","phone":"+8613800138001","updated_at":"2026-12-01T10:00:00+08:00"}"##

    static func shopifyHeaders(
        _ body: String, topic: String = "orders/create", id: String = "w-1", secret: String = "hush"
    )
        -> [String]
    {
        [
            "X-Shopify-Topic: \(topic)", "X-Shopify-Webhook-Id: \(id)",
            "X-Shopify-Hmac-Sha256: \(ShopifyWebhookSignature.signature(body: Array(body.utf8), secret: secret))",
            "Content-Type: application/json",
        ]
    }

    /// Serves a flow event server over a fresh store for `body`.
    static func serving(
        shopifySecret: String? = "hush", maxBody: Int = 1 << 20,
        _ body: (_ base: String, _ store: SQLiteStore, _ transport: CurlTransport) async throws -> Void
    ) async throws {
        let store = try SQLiteStore(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-flows-\(UUID())/s.sqlite").path
        )
        let server = FlowEventServer(
            configuration: .init(
                port: 0, shopifySecret: shopifySecret.map(Secret.init), token: Secret("t0ken"), maxBody: maxBody)
        ) { event in try await store.ingest([event], scheduler: Self.scheduler, stopAtDue: false)[0] != nil }
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withFlowEventServer(server) { base in try await body(base, store, transport) }
    }

    @Test func aSignedShopifyWebhookIsTakenOnce() async throws {
        try await Self.serving { base, store, transport in
            let answer = await post(transport, base + "/shopify", Self.order, headers: Self.shopifyHeaders(Self.order))
            #expect(answer == Answer(status: 200, body: #"{"status":"ok","new":true}"#))
            // Shopify delivers a webhook again when it doubts the first delivery: the same id is taken once.
            let again = await post(transport, base + "/shopify", Self.order, headers: Self.shopifyHeaders(Self.order))
            #expect(again == Answer(status: 200, body: #"{"status":"ok","new":false}"#))
            let status = try await store.flowStatus(next: 5)
            #expect(status.events == 1 && status.orders == 1)
            #expect(status.next.map(\.order) == ["450789469"])
        }
    }

    @Test func aForgedOrUnsignedWebhookIsRefusedBeforeAnythingIsKept() async throws {
        try await Self.serving { base, store, transport in
            let forged = await post(
                transport, base + "/shopify", Self.order, headers: Self.shopifyHeaders(Self.order, secret: "guess"))
            #expect(forged.status == 401)
            var tampered = Self.shopifyHeaders(Self.order)
            let body = Self.order.replacingOccurrences(of: "59.00", with: "0.01")
            #expect(await post(transport, base + "/shopify", body, headers: tampered).status == 401)
            tampered.removeAll { $0.hasPrefix("X-Shopify-Hmac") }
            #expect(await post(transport, base + "/shopify", Self.order, headers: tampered).status == 401)
            // A topic no flow reads is answered 200, so that Shopify does not send it again, and not kept.
            let products = #"{"id":1}"#
            let ignored = await post(
                transport, base + "/shopify", products, headers: Self.shopifyHeaders(products, topic: "products/update")
            )
            #expect(ignored == Answer(status: 200, body: #"{"status":"ignored"}"#))
            // Signed, but not an order.
            let broken = #"{"id":"#
            #expect(
                await post(transport, base + "/shopify", broken, headers: Self.shopifyHeaders(broken)).status == 400)
            let status = try await store.flowStatus(next: 5)
            #expect(status.events == 0 && status.orders == 0)
        }
        try await Self.serving(shopifySecret: nil) { base, _, transport in
            #expect(
                await post(transport, base + "/shopify", Self.order, headers: Self.shopifyHeaders(Self.order)).status
                    == 404)
        }
    }

    @Test func taobaoMessagesComeWithTheWebhooksCredentials() async throws {
        try await Self.serving(maxBody: 1024) { base, store, transport in
            let record =
                #"{"topic":"taobao_trade_TradeCreate","id":"m1","content":"{\"tid\":\"7\",\"created\":\"2026-12-01 10:00:00\",\"receiver_mobile\":\"13800138001\"}"}"#
            #expect(await post(transport, base + "/events", record, headers: []).status == 401)
            #expect(
                await post(transport, base + "/events", record, headers: ["Authorization: Bearer nope"]).status == 401)
            let taken = await post(transport, base + "/events", record, headers: ["Authorization: Bearer t0ken"])
            #expect(taken == Answer(status: 200, body: #"{"status":"ok","new":true}"#))
            let unknown = #"{"topic":"taobao_item_ItemAdd","content":{}}"#
            let refused = await post(transport, base + "/events", unknown, headers: ["Authorization: Bearer t0ken"])
            #expect(refused == Answer(status: 400, body: #"{"error":"unknown topic 'taobao_item_ItemAdd'"}"#))
            let huge = #"{"topic":"x","pad":""# + String(repeating: "a", count: 2000) + #""}"#
            #expect(
                await post(transport, base + "/events", huge, headers: ["Authorization: Bearer t0ken"]).status == 413)
            let events = try await store.flowStatus(next: 5).events
            #expect(events == 1)
        }
    }
}
