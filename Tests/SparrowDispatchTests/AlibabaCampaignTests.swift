import Foundation
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import SparrowTransport
import Testing

/// Campaigns through Alibaba Cloud's API as the simulator plays it: requests signed and checked, each attempt with a
/// nonce of its own, an approved template's parameters by name.
@Suite(.timeLimit(.minutes(2))) struct AlibabaCampaignTests {
    static func gateways(_ base: String, api: String) -> String {
        """

          - name: aliyun
            type: aliyun
            url: \(base)/
            sign_name: 青禾
            access_key_id: testid
            access_key_secret: testsecret
            api: \(api)
            retry: { max_attempts: 20, base_delay: 1ms, max_delay: 5ms }
        templates:
          sale:
            text: "${name}，双12全场五折。拒收请回复R"
            ids: { aliyun: SMS_153055065 }
        """
    }

    static let rows =
        "phone,name\n" + (0..<300).map { "1380000\(String(1000 + $0)),林\($0 % 3)" }.joined(separator: "\n")

    /// SendSms groups the messages by text (one set of parameters a request); SendBatchSms takes any, each number
    /// with its own. Throttled requests are sent again, signed anew.
    @Test(arguments: ["SendSms", "SendBatchSms"]) func everyMessageIsAcceptedWithItsParameters(api: String) async throws
    {
        let bodies = CampaignFixture.newFolder().path + "-bodies.log"
        let simulator = GatewaySimulator(
            faults: .init(tooManyRequests: 0.3), seed: 3,  // the seed's first draw throttles the first request
            aliyun: .init(id: "testid", secret: "testsecret"), bodyLog: bodies)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(
                base: base, gateways: Self.gateways(base, api: api), extra: "quiet_hours: off")
            _ = try await fixture.run(
                "sale", csv: Self.rows, now: CampaignRunTests.noon, transport: transport, approved: "sale")
            let figures = try await fixture.store.figures(campaign: "sale").total
            #expect(figures.accepted == 300 && simulator.stats.messages == 300)
            #expect(simulator.stats.faults > 0)  // throttled, and signed anew: no nonce was refused as used
        }
        let requests = try String(contentsOfFile: bodies, encoding: .utf8).split(separator: "\n").map { line in
            Dictionary(
                uniqueKeysWithValues: line.split(separator: "&").map { pair in
                    let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding! }
                    return (parts[0], parts[1])
                })
        }
        if api == "SendSms" {
            #expect(
                Set(requests.map { $0["TemplateParam"]! }) == [#"{"name":"林0"}"#, #"{"name":"林1"}"#, #"{"name":"林2"}"#])
        } else {
            #expect(requests.allSatisfy { $0["TemplateParamJson"]?.hasPrefix(#"[{"name":"林"#) == true })
            // Different texts share a request.
            #expect(requests.contains { ["林0", "林1", "林2"].allSatisfy($0["TemplateParamJson"]!.contains) })
        }
    }

    /// Alibaba pushes receipts in lists (SmsReport), each naming the request's BizId and the number, and replies as
    /// lists (SmsUp): every message is settled by its receipt, and the customers who answer R are suppressed.
    @Test func pushedReceiptsSettleEachNumberOfABatchAndRepliesOptOut() async throws {
        let folder = CampaignFixture.newFolder()
        let webhook = try CampaignFixture.webhook(in: folder, gateways: ["aliyun": .aliyun])
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withReceiptServer(webhook) { hook in
            let simulator = GatewaySimulator(
                seed: 22,
                receipts: .init(
                    url: hook + "/dlr/aliyun", token: "t0ken", delay: .milliseconds(20), delivered: 0.9, failed: 0.1),
                replies: .init(url: hook + "/mo/aliyun", token: "t0ken", share: 0.1, delay: .milliseconds(20)),
                aliyun: .init(id: "testid", secret: "testsecret"))
            try await withSimulator(simulator) { base in
                let fixture = try CampaignFixture(
                    base: base, gateways: Self.gateways(base, api: "SendBatchSms"), extra: "quiet_hours: off",
                    folder: folder)
                _ = try await fixture.run(
                    "sale", csv: Self.rows, now: CampaignRunTests.noon, transport: transport, approved: "sale")
                let (total, suppressed) = try await fixture.awaitTotal("sale") { total, suppressed in
                    total.pending == 0 && suppressed > 0 && suppressed == simulator.stats.replies
                }
                #expect(total.accepted == 300 && total.pending == 0)
                #expect(total.delivered + total.failed == 300 && total.failed > 0)
                #expect(simulator.stats.replies > 0 && suppressed == simulator.stats.replies)
            }
        }
    }
}
