import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Prometheus
import SparrowCore
import SparrowReceipts
import SparrowStore
import SparrowTestSupport
import Testing

/// `GET /s/{code}`: a tracked link redirects a customer to the campaign's target and records the click; a code
/// that was made up, altered, or names no message leads nowhere.
@Suite(.timeLimit(.minutes(1))) struct TrackedLinkTests {
    @Test func aLinkRedirectsToItsTargetAndRecordsTheClick() async throws {
        let store = try await seededStore(messages: 3)
        try await store.setLinkTarget(campaign: "c1", "https://shop.example.cn/winter?from=sms#top")
        try await store.setLinkTarget(campaign: "c1", "https://elsewhere.example.cn/")  // the first one stays
        let coder = LinkCoder(key: try await store.linkKey())
        #expect(
            coder.code(campaign: 1, line: 1) == LinkCoder(key: try await store.linkKey()).code(campaign: 1, line: 1))
        let number = try await store.campaign(id: "c1")!.number
        var configuration = ReceiptServer.Configuration(port: 0)
        configuration.linkParameters = [("utm_source", "sms"), ("utm_medium", "青禾")]
        let registry = PrometheusCollectorRegistry()
        let server = ReceiptServer(configuration: configuration, store: store, now: { fixedNow }, registry: registry)
        var client = HTTPClient.Configuration()
        client.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: client)
        let answers = try await withReceiptServer(server) { base in
            var answers: [(status: UInt, location: String?)] = []
            let good = coder.code(campaign: number, line: 2)
            let altered = String(good.dropLast()) + (good.last == "A" ? "B" : "A")
            for code in [
                good, good, altered, coder.code(campaign: number, line: 9),
                LinkCoder(key: [1]).code(campaign: number, line: 2),
                "short",
            ] {
                let response = try await http.execute(
                    HTTPClientRequest(url: base + "/s/" + code), timeout: .seconds(10))
                answers.append((response.status.code, response.headers.first(name: "Location")))
            }
            return answers
        }
        try await http.shutdown()
        let destination =
            "https://shop.example.cn/winter?from=sms&utm_source=sms&utm_medium=%E9%9D%92%E7%A6%BE&utm_campaign=c1#top"
        #expect(answers.map(\.status) == [302, 302, 404, 404, 404, 404])
        #expect(answers[0].location == destination && answers[1].location == destination)
        #expect(answers.dropFirst(2).allSatisfy { $0.location == nil })
        let clicked = try await store.effectRecipients(campaign: "c1").filter { $0.clickedAt != nil }
        #expect(clicked.map(\.number) == [PhoneNumber.value(ofE164: "+8613800000002")])
        #expect(clicked.first?.clickedAt == fixedNow)  // the first of its two clicks
        let text = registry.emitToString()
        #expect(metric(text, "sparrow_link_clicks_total") == 2 && metric(text, "sparrow_link_unknown_total") == 4)
    }
}
