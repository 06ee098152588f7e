import Foundation
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import SparrowTransport
import Testing

/// Messages whose answer was lost, settled by the providers' status queries as the simulator answers them: found
/// where the gateway took them, sent again where Alibaba has no record of them, never sent twice.
@Suite(.timeLimit(.minutes(2))) struct StatusSettlerTests {
    /// Every row its own text, so that each goes in a request of its own and draws its own fault.
    static let rows =
        "phone,name\n" + (0..<60).map { "1380000\(String(1000 + $0)),林\($0)" }.joined(separator: "\n")

    /// Alibaba: a reset connection loses the answer of a request the simulator took; a request never answered was
    /// never taken. The first are found delivered, the second opened again, and the resume sends them (here to a
    /// gateway without faults) exactly once.
    @Test func alibabaFindsWhatItTookAndWhatItNeverSawIsSentAgain() async throws {
        let faulty = GatewaySimulator(
            faults: .init(neverAnswered: 0.25, connectionReset: 0.25), seed: 11,
            aliyun: .init(id: "testid", secret: "testsecret"))
        let healthy = GatewaySimulator(seed: 12, aliyun: .init(id: "testid", secret: "testsecret"))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let folder = CampaignFixture.newFolder()
        /// The faulty gateway's requests time out after 1 s, so that those never answered end soon; the healthy one
        /// keeps the default, so that a slow machine (ThreadSanitizer) leaves none of its answers in doubt.
        func fixture(_ base: String, timeout: String) throws -> CampaignFixture {
            let gateways = AlibabaCampaignTests.gateways(base, api: "SendSms")
                .replacingOccurrences(of: "    api: SendSms", with: "    api: SendSms\n    timeout: \(timeout)")
            return try CampaignFixture(base: base, gateways: gateways, extra: "quiet_hours: off", folder: folder)
        }
        let now = CampaignRunTests.noon
        let (first, outcome) = try await withSimulator(faulty) { base in
            let fixture = try fixture(base, timeout: "1s")
            _ = try await fixture.run("sale", csv: Self.rows, now: now, transport: transport, approved: "sale")
            let first = try await fixture.store.figures(campaign: "sale").total
            return (first, try await fixture.settler(transport: transport, now: now).settle(campaign: "sale"))
        }
        let taken = faulty.stats.messages
        // Some answers were lost for messages taken (reset), some for messages never taken (never answered).
        #expect(taken > first.accepted && first.accepted + first.unknown > taken)
        #expect(outcome.unanswered.isEmpty)
        #expect(outcome.asked == first.accepted + first.unknown)  // in doubt, or awaiting a receipt
        // The simulator reports every message it took delivered; the rest in doubt never reached it.
        #expect(outcome.settled == taken)
        #expect(outcome.reopened == 60 - taken)

        let final = try await withSimulator(healthy) { base in
            let fixture = try fixture(base, timeout: "30s")
            #expect(try await fixture.store.figures(campaign: "sale").total.unknown == 0)
            _ = try await fixture.run(
                "sale", csv: nil, now: now, transport: transport, approved: "sale",
                settler: fixture.settler(transport: transport, now: now))
            return try await fixture.store.figures(campaign: "sale").total
        }
        #expect(healthy.stats.messages == 60 - taken)  // only those the faulty gateway never took
        #expect(final.delivered == taken && final.accepted == 60 && final.unknown == 0)
    }

    /// A status query is only a question: one whose connection was reset is asked again, signed anew, and every
    /// message is still settled.
    @Test func aLostQueryIsAskedAgain() async throws {
        let simulator = GatewaySimulator(
            faults: .init(lostQueries: 3), aliyun: .init(id: "testid", secret: "testsecret"))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (outcome, total) = try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(
                base: base, gateways: AlibabaCampaignTests.gateways(base, api: "SendSms"), extra: "quiet_hours: off")
            let now = CampaignRunTests.noon
            _ = try await fixture.run(
                "sale", csv: Self.rows, now: now, transport: transport, approved: "sale")
            let outcome = try await fixture.settler(transport: transport, now: now).settle(campaign: "sale")
            return (outcome, try await fixture.store.figures(campaign: "sale").total)
        }
        #expect(simulator.stats.faults == 3)
        #expect(outcome.unanswered.isEmpty && outcome.asked == 60 && outcome.settled == 60)
        #expect(total.delivered == 60)
    }

    /// Tencent: reports are pulled from the application's queue; each names the request's first message, so a
    /// message whose answer was lost is found by its campaign and number, and one whose answer came by its serial.
    @Test func tencentReportsSettleTheLostAndTheAwaitingAlike() async throws {
        let simulator = GatewaySimulator(
            faults: .init(connectionReset: 0.3), seed: 3, tencent: TencentCampaignTests.credentials)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(
                base: base, gateways: TencentCampaignTests.gateways(base), extra: "quiet_hours: off")
            let now = CampaignRunTests.noon
            _ = try await fixture.run(
                "sale", csv: TencentCampaignTests.rows, now: now, transport: transport, approved: "sale")
            let first = try await fixture.store.figures(campaign: "sale").total
            #expect(first.unknown > 0 && simulator.stats.messages == 300)

            let outcome = try await fixture.settler(transport: transport, now: now).settle(campaign: "sale")
            #expect(outcome.pulled == 300 && outcome.settled == 300 && outcome.reopened == 0)
            let settled = try await fixture.store.figures(campaign: "sale").total
            #expect(settled.delivered == 300 && settled.unknown == 0)
            // The queue hands each report out once.
            #expect(try await fixture.settler(transport: transport, now: now).settle(campaign: "sale").pulled == 0)
        }
    }

    /// A template the provider has not approved is refused for the whole request: every message fails.
    @Test func aTemplateNotApprovedFailsEveryMessageWithTheProvidersCode() async throws {
        let simulator = GatewaySimulator(
            faults: .init(unapprovedTemplates: ["1110422"]), seed: 3, tencent: TencentCampaignTests.credentials)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try CampaignFixture(
                base: base, gateways: TencentCampaignTests.gateways(base), extra: "quiet_hours: off")
            _ = try await fixture.run(
                "sale", csv: TencentCampaignTests.rows, now: CampaignRunTests.noon, transport: transport,
                approved: "sale")
            let figures = try await fixture.store.figures(campaign: "sale").total
            #expect(figures.failed == 300 && figures.unknown == 0 && simulator.stats.messages == 0)
        }
    }
}
