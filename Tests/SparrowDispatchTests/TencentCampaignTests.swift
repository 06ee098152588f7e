import Foundation
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import SparrowTransport
import Testing

/// Campaigns through Tencent Cloud's API as the simulator plays it: signed requests checked, an approved template
/// with its parameters, a result per number classified.
@Suite(.timeLimit(.minutes(2))) struct TencentCampaignTests {
    static let credentials = GatewaySimulator.KeyPair(id: "AKIDexample", secret: "s3cr3t")

    static func gateways(_ base: String, key: String = "s3cr3t", retry: String = "{}") -> String {
        """

          - name: tencent
            type: tencent
            url: \(base)/
            region: ap-guangzhou
            sdk_app_id: "1400006666"
            sign_name: 青禾
            secret_id: AKIDexample
            secret_key: \(key)
            retry: \(retry)
        templates:
          sale:
            text: "{1}，双12全场五折，今晚截止。拒收请回复R"
            columns: [name]
            ids: { tencent: "1110422" }
        """
    }

    static let rows =
        "phone,name\n" + (0..<300).map { "1380000\(String(1000 + $0)),林\($0 % 2)" }.joined(separator: "\n")

    @Test func anApprovedTemplateGoesWithItsParametersAndEachNumberIsSettledByItsCode() async throws {
        let bodies = CampaignFixture.newFolder().path + "-bodies.log"
        let simulator = GatewaySimulator(
            faults: .init(refusedNumbers: 0.1), seed: 9, tencent: Self.credentials, bodyLog: bodies)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(base: base, gateways: Self.gateways(base), extra: "quiet_hours: off")
            let outcome = try await fixture.run(
                "sale", csv: Self.rows, now: CampaignRunTests.noon, transport: transport, approved: "sale")
            #expect(outcome.nextRelease != nil)  // numbers at their daily limit wait for tomorrow
            let figures = try await fixture.store.figures(campaign: "sale").total
            #expect(figures.targeted == 300)
            #expect(figures.accepted == simulator.stats.messages)
            let refused = 300 - simulator.stats.messages
            #expect(refused > 0)
            // The simulator refuses by code in turn: a bad number fails, a daily limit defers, a blacklist suppresses.
            let suppressed = try await fixture.store.suppressedNumbers()
            #expect(!suppressed.isEmpty)
            #expect(figures.failed + figures.deferred == refused)
            #expect(figures.failed > suppressed.count && figures.deferred > 0)
            let record = try #require(try await fixture.store.campaign(id: "sale"))
            #expect(record.approved == "sale")
            #expect(record.template == "{{name}}，双12全场五折，今晚截止。拒收请回复R")
        }
        // Two texts (林0 and 林1): each request carries one set of parameters.
        let requests = try String(contentsOfFile: bodies, encoding: .utf8).split(separator: "\n").map {
            try JSONValue.parse(Array($0.utf8))
        }
        #expect(requests.allSatisfy { $0[path: "TemplateId"]?.text == "1110422" })
        let parameterSets = Set(requests.map { $0[path: "TemplateParamSet.0"]?.text ?? "" })
        #expect(parameterSets == ["林0", "林1"])
    }

    /// Its request limit and internal timeouts come as codes in a 200: the batch is sent again, as after a 503.
    @Test func aRequestLimitIsRetriedWhole() async throws {
        let simulator = GatewaySimulator(
            faults: .init(serviceUnavailable: 0.2, tooManyRequests: 0.3), seed: 4, tencent: Self.credentials)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(
                base: base,
                gateways: Self.gateways(base, retry: "{ max_attempts: 20, base_delay: 1ms, max_delay: 5ms }"),
                extra: "quiet_hours: off")
            _ = try await fixture.run(
                "sale", csv: Self.rows, now: CampaignRunTests.noon, transport: transport, approved: "sale")
            let figures = try await fixture.store.figures(campaign: "sale").total
            #expect(figures.accepted == 300 && simulator.stats.messages == 300)
            #expect(simulator.stats.faults > 0)
        }
    }

    @Test func aBadSignatureFailsEveryNumberWithTheProvidersReason() async throws {
        let simulator = GatewaySimulator(tencent: Self.credentials)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(
                base: base, gateways: Self.gateways(base, key: "wrong"), extra: "quiet_hours: off")
            _ = try await fixture.run(
                "sale", csv: Self.rows, now: CampaignRunTests.noon, transport: transport, approved: "sale")
            let figures = try await fixture.store.figures(campaign: "sale").total
            #expect(figures.failed == 300 && simulator.stats.messages == 0)
        }
    }

    /// The simulator posts receipts and the customers' replies as Tencent Cloud does (a list of receipts, a reply a
    /// request); the customers who answer `R`, the opt-out the template invites, are suppressed.
    @Test func receiptsSettleAndCustomersWhoAnswerROptOut() async throws {
        let folder = CampaignFixture.newFolder()
        let webhook = try CampaignFixture.webhook(in: folder, gateways: ["tencent": .tencent])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withReceiptServer(webhook) { hook in
            let simulator = GatewaySimulator(
                seed: 21,
                receipts: .init(
                    url: hook + "/dlr/tencent", token: "t0ken", delay: .milliseconds(20), delivered: 1, failed: 0,
                    perPost: 50),
                replies: .init(url: hook + "/mo/tencent", token: "t0ken", share: 0.1, delay: .milliseconds(20)),
                tencent: Self.credentials)
            try await withSimulator(simulator) { base in
                let fixture = try CampaignFixture(
                    base: base, gateways: Self.gateways(base), extra: "quiet_hours: off", folder: folder)
                _ = try await fixture.run(
                    "sale", csv: Self.rows, now: CampaignRunTests.noon, transport: transport, approved: "sale")
                let (total, suppressed) = try await fixture.awaitTotal("sale") { total, suppressed in
                    total.delivered == 300 && suppressed > 0 && suppressed == simulator.stats.replies
                }
                #expect(total.delivered == 300)
                let replies = simulator.stats.replies
                #expect((10..<60).contains(replies), "\(replies) replies at 10%")
                #expect(suppressed == replies)
            }
        }
    }
}
