import Foundation
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import SparrowTransport
import Testing

/// Batches over real loopback HTTP: the simulator answers a result per number, refuses some numbers alone, and
/// injects faults that concern the whole request.
@Suite(.timeLimit(.minutes(2))) struct BatchSubmitTests {
    /// The gateway YAML of a batch of up to `max` numbers with one text, read as the simulator answers.
    static func batchGateway(max: Int) -> String {
        "batch: { max: \(max), list: to, results: { path: results, number: to, "
            + "success_field: { path: status, equals: ok }, message_id: message_id } }"
    }

    static func client(_ base: String, max: Int, transport: CurlTransport) throws -> GatewayClient {
        let yaml = """
              - name: primary
                url: \(base)/v1/batch
                format: json
                fields: { text: "{{text}}" }
                retry: { max_attempts: 10, base_delay: 2ms, max_delay: 20ms }
                \(Self.batchGateway(max: max))
            """
        return GatewayClient(
            gateways: try gateways(yaml), transport: transport, breaker: .init(failureThreshold: 1000), seed: 3)
    }

    @Test func aBatchGoesInOneRequestAndEachNumberGetsItsOwnResult() async throws {
        let simulator = GatewaySimulator(faults: .init(refusedNumbers: 0.3), seed: 11)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let outcomes = try await withSimulator(simulator) { base in
            try await Self.client(base, max: 50, transport: transport).submit(batch: messages(50))
        }
        var accepted: [String] = []
        var refused = 0
        for outcome in outcomes {
            #expect(outcome.attempts == 1)  // one request for all fifty
            switch outcome.status {
            case .accepted(let ids): accepted += ids
            case .failed(let reason): refused += reason == "invalid number" ? 1 : 0
            case .unknown, .blacklisted, .deferred: Issue.record("every number is accepted or refused")
            }
        }
        #expect(refused > 0 && accepted.count > 0)
        #expect(accepted.count + refused == 50)
        #expect(Set(accepted).count == accepted.count)  // each accepted number has an id of its own
        #expect(simulator.stats.messages == accepted.count)
    }

    /// A gateway read as naming only the batch: each message is named by the batch's id and its number.
    @Test func aBatchsOneIDNamesEachMessageWithItsNumber() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let outcomes = try await withSimulator(simulator) { base in
            let client = GatewayClient(
                gateways: try gateways(
                    """
                      - name: primary
                        url: \(base)/v1/batch
                        format: json
                        fields: { text: "{{text}}" }
                        response: { message_id: batch_id }
                        batch: { max: 3, list: to }
                    """), transport: transport)
            return try await client.submit(batch: messages(3))
        }
        #expect(
            outcomes.map(\.status)
                == messages(3).map {
                    .accepted(gatewayIDs: [GatewayDialect.batchMessageID(batch: "batch-sim-1", number: $0.to)])
                })
    }

    @Test func aWholeRequestFailureAppliesToEveryNumber() async throws {
        let simulator = GatewaySimulator(faults: .init(batchLimit: 10))
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let outcomes = try await withSimulator(simulator) { base in
            try await Self.client(base, max: 20, transport: transport).submit(batch: messages(20))
        }
        #expect(outcomes.count == 20)
        #expect(outcomes.allSatisfy { $0.status == .failed(reason: "HTTP 400: a batch takes at most 10 numbers") })
        #expect(simulator.stats.messages == 0)
    }

    /// Batches carry no idempotency key, so a batch that may have reached the gateway is never sent again: a reset
    /// leaves every number unknown, while a 503 (nothing taken) is retried whole.
    @Test func aBatchIsRetriedOnlyWhenTheGatewayTookNothing() async throws {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let reset = GatewaySimulator(faults: .init(connectionReset: 1))
        let ambiguous = try await withSimulator(reset) { base in
            try await Self.client(base, max: 20, transport: transport).submit(batch: messages(20))
        }
        #expect(ambiguous.allSatisfy { if case .unknown = $0.status { $0.attempts == 1 } else { false } })
        #expect(reset.stats.messages == 20)

        let unavailable = GatewaySimulator(faults: .init(serviceUnavailable: 0.6), seed: 4)
        let retried = try await withSimulator(unavailable) { base in
            try await Self.client(base, max: 20, transport: transport).submit(batch: messages(20))
        }
        #expect(retried.allSatisfy { if case .accepted = $0.status { true } else { false } })
        #expect(retried[0].attempts > 1)
        #expect(unavailable.stats.messages == 20)
    }

    static let rows = "phone\n" + (0..<400).map { "1380000\(String(1000 + $0))" }.joined(separator: "\n")
    static let text = "双12 全场五折"

    /// A campaign's parts at `base`, sending through a gateway that takes batches of up to 100.
    static func fixture(_ base: String) throws -> CampaignFixture {
        try CampaignFixture(base: base, gateway: batchGateway(max: 100), extra: "quiet_hours: off")
    }

    /// A campaign through a gateway that batches: the carrier's lane fills batches as its tokens come, every number
    /// is recorded with its own result, and far fewer requests than messages go.
    @Test func aCampaignSendsInBatchesAndJournalsEachNumber() async throws {
        let requests = CampaignFixture.newFolder().path + "-requests.log"
        let simulator = GatewaySimulator(faults: .init(refusedNumbers: 0.05), seed: 2, requestLog: requests)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try Self.fixture(base)
            let outcome = try await fixture.run(
                "bulk", template: Self.text, csv: Self.rows, now: CampaignRunTests.noon, transport: transport)
            #expect(outcome.inputComplete && !outcome.stopped)
            let figures = try await fixture.store.figures(campaign: "bulk").total
            #expect(figures.targeted == 400)
            #expect(figures.accepted == simulator.stats.messages)
            #expect(figures.failed == 400 - simulator.stats.messages)
            #expect(figures.failed > 0)
        }
        let sent = try String(contentsOfFile: requests, encoding: .utf8).split(separator: "\n").count
        // Batches fill with the tokens of 20 ms (10 messages at 500 a second), or more on a slow machine.
        #expect(sent < 100)
    }

    /// Cancelled while batches are out, a campaign on a gateway without keys resumes by recording them unknown, never
    /// by sending them again.
    @Test func batchesInFlightWhenARunIsCutAreRecordedUnknown() async throws {
        let arrivals = CampaignFixture.newFolder().path + "-arrivals.log"
        let simulator = GatewaySimulator(faults: .init(latency: .milliseconds(300)), arrivalLog: arrivals)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        try await withSimulator(simulator) { base in
            let fixture = try Self.fixture(base)
            let progress = SendProgress()
            let running = Task {
                try await fixture.run(
                    "cut", template: Self.text, csv: Self.rows, now: CampaignRunTests.noon, transport: transport,
                    progress: progress)
            }
            while simulator.stats.messages == 0 { try await Task.sleep(for: .milliseconds(2)) }
            running.cancel()
            await #expect(throws: CancellationError.self) { try await running.value }

            let resumed = try await fixture.run(
                "cut", template: Self.text, csv: Self.rows, now: CampaignRunTests.noon, transport: transport)
            #expect(resumed.inFlightUnknown > 0)
            #expect(resumed.inFlightResent == 0)
            let figures = try await fixture.store.figures(campaign: "cut").total
            #expect(figures.targeted == 400)
            #expect(figures.accepted + figures.unknown == 400)
        }
        // No number reached the gateway twice.
        let numbers = try String(contentsOfFile: arrivals, encoding: .utf8).split(separator: "\n").map {
            $0.split(separator: " ")[1]
        }
        #expect(Set(numbers).count == numbers.count)
    }
}
