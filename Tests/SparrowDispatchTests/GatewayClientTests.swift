import Foundation
import Prometheus
import SparrowConfig
import SparrowCore
import SparrowDispatch
import SparrowGatewaySim
import SparrowTestSupport
import SparrowTransport
import Testing

/// Gateways as a configuration file states them, pointed at simulators.
func gateways(_ yaml: String) throws -> [GatewayEndpoint] {
    try SparrowConfiguration.parse(yaml: "store: x\ngateways:\n" + yaml, path: "test.yaml").gateways.map(\.endpoint)
}

func messages(_ count: Int, gateway: String = "primary") -> [OutboundMessage] {
    (0..<count).map {
        OutboundMessage(id: "c1-\($0)", to: "+86138001\(String(10_000 + $0).suffix(5))", text: "您好", gateway: gateway)
    }
}

func submitAll(_ messages: [OutboundMessage], through client: GatewayClient) async throws -> [SubmitOutcome] {
    try await withThrowingTaskGroup(of: SubmitOutcome.self) { group in
        for message in messages { group.addTask { try await client.submit(message) } }
        return try await group.reduce(into: []) { $0.append($1) }
    }
}

/// A client for one JSON gateway at `base` that retries up to 10 times, quickly, and whose breaker never opens.
func retryingClient(_ base: String, honoured: Bool, transport: CurlTransport) throws -> GatewayClient {
    GatewayClient(
        gateways: try gateways(
            """
              - name: primary
                url: \(base)/v1/sms
                format: json
                idempotency: { honoured: \(honoured) }
                retry: { max_attempts: 10, base_delay: 2ms, max_delay: 50ms }
            """), transport: transport, breaker: .init(failureThreshold: 1000), seed: 3)
}

@Suite(.timeLimit(.minutes(1))) struct GatewayClientTests {
    @Test func retriesAfter503KeepTheIdempotencyKey() async throws {
        let simulator = GatewaySimulator(faults: .init(serviceUnavailable: 0.4), seed: 7)
        let transport = CurlTransport(maxInFlight: 8)
        defer { transport.shutdown() }
        let outcomes = try await withSimulator(simulator) { base in
            let client = try retryingClient(base, honoured: true, transport: transport)
            return try await submitAll(messages(50), through: client)
        }
        #expect(outcomes.allSatisfy { if case .accepted = $0.status { true } else { false } })
        #expect(outcomes.contains { $0.attempts > 1 })  // some were retried …
        #expect(simulator.stats.messages == 50)  // … and every message arrived once
        #expect(simulator.stats.duplicates == 0)
        #expect(simulator.stats.distinctKeys == 50)
    }

    /// A reset after the gateway took the message is ambiguous: a gateway that honours keys gets the message again
    /// under the same key (and counts a duplicate, not a second message); one that does not leaves it unknown.
    @Test(arguments: [true, false]) func aResetConnectionIsRetriedOnlyUnderAnHonouredKey(honoured: Bool) async throws {
        let simulator = GatewaySimulator(faults: .init(connectionReset: 0.3), honoursIdempotency: honoured, seed: 5)
        let transport = CurlTransport(maxInFlight: 8)
        defer { transport.shutdown() }
        let outcomes = try await withSimulator(simulator) { base in
            let client = try retryingClient(base, honoured: honoured, transport: transport)
            return try await submitAll(messages(40), through: client)
        }
        let resets = simulator.stats.faults
        #expect(resets > 0)
        #expect(simulator.stats.messages == 40)  // every message reached the gateway once, reset or not
        if honoured {
            #expect(outcomes.allSatisfy { if case .accepted = $0.status { true } else { false } })
            #expect(simulator.stats.duplicates == resets)  // each reset message came again under its key
        } else {
            let unknown = outcomes.filter { if case .unknown = $0.status { true } else { false } }
            #expect(unknown.count == resets)  // not sent again: receipts settle them
            #expect(unknown.allSatisfy { $0.attempts == 1 })
            #expect(simulator.stats.duplicates == 0)
        }
    }

    @Test func retryAfterPausesTheGateway() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("sparrow-requests-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: log) }
        let simulator = GatewaySimulator(
            faults: .init(tooManyRequests: 0.5, retryAfterSeconds: 1), seed: 11, requestLog: log.path)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let outcomes = try await withSimulator(simulator) { base in
            let client = GatewayClient(
                gateways: try gateways(
                    "  - { name: primary, url: \"\(base)\", format: form, retry: { max_attempts: 8 } }"),
                transport: transport, seed: 5)
            return try await submitAll(messages(10), through: client)
        }
        #expect(outcomes.allSatisfy { if case .accepted = $0.status { true } else { false } })
        // Every key answered 429 came again no sooner than its Retry-After, as the simulator saw it.
        var throttledAt: [Substring: Int] = [:]
        var gaps: [Int] = []
        for line in try String(contentsOf: log, encoding: .utf8).split(separator: "\n") {
            let fields = line.split(separator: " ")
            let (at, key) = (Int(fields[0])!, fields[1])
            #expect(key != "-")  // every request carries its message's key
            if let throttled = throttledAt.removeValue(forKey: key) { gaps.append(at - throttled) }
            if fields[2] == "429" { throttledAt[key] = at }
        }
        #expect(!gaps.isEmpty && throttledAt.isEmpty)
        #expect(gaps.allSatisfy { $0 >= 1_000_000 })
    }

    @Test func aRejectionIsNotRetried() async throws {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let simulator = GatewaySimulator()
        let outcome = try await withSimulator(simulator) { base in
            let client = GatewayClient(
                gateways: try gateways(
                    """
                      - name: primary
                        url: \(base)
                        format: json
                        response: { success_field: { path: status, equals: queued } }
                    """), transport: transport)
            return try await client.submit(messages(1)[0])
        }
        #expect(outcome.status == .failed(reason: "{\"status\":\"ok\",\"message_id\":\"sim-1\"}"))
        #expect(outcome.attempts == 1)
    }

    @Test func anUnreachableGatewayFailsOverToItsBackup() async throws {
        let backup = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let outcomes = try await withSimulator(backup) { base in
            let client = GatewayClient(
                gateways: try gateways(
                    """
                      - { name: primary, url: "http://127.0.0.1:9/", format: json, backup: fallback, retry: { max_attempts: 2, base_delay: 1ms } }
                      - { name: fallback, url: "\(base)", format: json }
                    """), transport: transport, breaker: .init(failureThreshold: 2, coolDown: .seconds(60)))
            var outcomes: [SubmitOutcome] = []
            for message in messages(6) { outcomes.append(try await client.submit(message)) }
            return outcomes
        }
        // The first message fails on the unreachable primary (nothing was sent: a clean failure) and opens its
        // breaker; the others go to the backup.
        #expect(outcomes[0].gateway == "primary")
        #expect(outcomes[0].status == .failed(reason: outcomes[0].status.reason))
        #expect(
            outcomes.dropFirst().allSatisfy {
                $0.gateway == "fallback" && $0.status == .accepted(gatewayIDs: $0.status.gatewayIDs)
            })
        #expect(backup.stats.messages == 5)
    }

    @Test func anOutageFailsOverAndTrafficComesBackAfterAHealthyProbe() async throws {
        let primary = GatewaySimulator()
        let backup = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (duringOutage, afterOutage) = try await withSimulator(primary) { primaryURL in
            try await withSimulator(backup) { backupURL in
                let client = GatewayClient(
                    gateways: try gateways(
                        """
                          - { name: primary, url: "\(primaryURL)", format: json, backup: fallback, retry: { max_attempts: 1 } }
                          - { name: fallback, url: "\(backupURL)", format: json }
                        """), transport: transport, breaker: .init(failureThreshold: 3, coolDown: .milliseconds(100)))
                let queue = messages(200)
                var next = 0
                func submitUntil(_ gateway: String) async throws -> [String] {
                    var seen: [String] = []
                    while next < queue.count, seen.last != gateway {
                        seen.append(try await client.submit(queue[next]).gateway)
                        next += 1
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    return seen
                }
                primary.setOutage(true)
                let duringOutage = try await submitUntil("fallback")
                primary.setOutage(false)
                return (duringOutage, try await submitUntil("primary"))
            }
        }
        #expect(Array(duringOutage.prefix(3)) == ["primary", "primary", "primary"])  // the breaker's threshold …
        #expect(duringOutage.last == "fallback")  // … then failover
        #expect(afterOutage.last == "primary")  // a healthy probe brings traffic back
        #expect(primary.stats.faults >= 3)
    }

    @Test(arguments: [
        (GatewaySimulator.Auth.bearer(token: "t0k"), "{ type: bearer, token: t0k }", "{ type: bearer, token: nope }"),
        (
            .basic(username: "ac1", password: "s3cret"), "{ type: basic, username: ac1, password: s3cret }",
            "{ type: basic, username: ac1, password: wrong }"
        ),
        (.hmac(secret: "k3y"), "{ type: hmac, secret: k3y }", "{ type: hmac, secret: other }"),
    ])
    func eachAuthIsAcceptedAndAWrongOneRefused(_ required: GatewaySimulator.Auth, right: String, wrong: String)
        async throws
    {
        let simulator = GatewaySimulator(auth: required)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let (accepted, refused) = try await withSimulator(simulator) { base in
            let good = GatewayClient(
                gateways: try gateways("  - { name: primary, url: \"\(base)\", format: json, auth: \(right) }"),
                transport: transport)
            let bad = GatewayClient(
                gateways: try gateways("  - { name: primary, url: \"\(base)\", format: json, auth: \(wrong) }"),
                transport: transport)
            return (try await good.submit(messages(1)[0]), try await bad.submit(messages(2)[1]))
        }
        #expect(accepted.status == .accepted(gatewayIDs: ["sim-1"]))
        #expect(refused.status == .failed(reason: "HTTP 401: bad credentials"))
        #expect(refused.attempts == 1)
        #expect(simulator.stats.messages == 1)
    }

    /// A message waiting for a gateway whose circuit is open, with no backup, ends with `CancellationError` when
    /// its task is cancelled, after one sleep, instead of asking the breaker again and again.
    @Test func aCancelledWaitForAnOpenCircuitEndsInsteadOfLooping() async throws {
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let clock = TestClock()
        let client = GatewayClient(
            gateways: try gateways(
                "  - { name: primary, url: \"http://127.0.0.1:9/\", format: json, retry: { max_attempts: 1 } }"),
            transport: transport, breaker: .init(failureThreshold: 1, coolDown: .seconds(60)), clock: RunClock(clock))
        let refused = try await client.submit(messages(1)[0])  // nothing listens: the breaker opens
        #expect(refused.status == .failed(reason: refused.status.reason))
        let error = try await clock.errorAfterCancelling(Task { try await client.submit(messages(2)[1]) })
        #expect(error is CancellationError)
        #expect(clock.sleeps == 1)
    }

    /// A group is routed in one call, in order, up to the first message its gateways cannot take now: once a down
    /// gateway's cool-down has passed, its first message goes as the probe, and the rest go to the backup, or, with
    /// none, wait for the next call (so that the probe goes first instead of waiting behind them). A message pinned
    /// to its gateway is not routed.
    @Test(arguments: [true, false]) func aGroupIsRoutedAroundAHalfOpenCircuit(withBackup: Bool) async throws {
        let backup = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let clock = TestClock()
        let registry = PrometheusCollectorRegistry()
        let backupField = withBackup ? ", backup: fallback" : ""
        try await withSimulator(backup) { base in
            let client = GatewayClient(
                gateways: try gateways(
                    """
                      - { name: primary, url: "http://127.0.0.1:9/", format: json, retry: { max_attempts: 1 }\(backupField) }
                      - { name: fallback, url: "\(base)", format: json }
                    """), transport: transport, breaker: .init(failureThreshold: 1, coolDown: .seconds(60)),
                clock: RunClock(clock), metrics: PrometheusMetricsFactory(registry: registry))
            let refused = try await client.submit(messages(1)[0])  // nothing listens: the breaker opens
            #expect(refused.gateway == "primary" && refused.status == .failed(reason: refused.status.reason))
            // A failure reaches the breakers soon, without waiting for a batch of outcomes or a route to apply it.
            let circuitOpen = #"sparrow_gateway_circuit_open{gateway="primary"}"#
            for _ in 0..<500 where metric(registry.emitToString(), circuitOpen) != 1 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(metric(registry.emitToString(), circuitOpen) == 1)
            let whileOpen = try await client.route([.pinned("primary"), .planned("primary"), .planned("fallback")])
            #expect(whileOpen.map(\.gateway) == (withBackup ? ["primary", "fallback", "fallback"] : ["primary"]))
            clock.advance(by: .seconds(60))
            let halfOpen = try await client.route([.planned("primary"), .planned("primary"), .planned("fallback")])
            #expect(halfOpen.map(\.gateway) == (withBackup ? ["primary", "fallback", "fallback"] : ["primary"]))
        }
        #expect(clock.sleeps == 0)
    }

    @Test func sparrowSplitsLongMessagesIntoPartsWithUDH() async throws {
        let simulator = GatewaySimulator()
        let transport = CurlTransport()
        defer { transport.shutdown() }
        let outcome = try await withSimulator(simulator) { base in
            let client = GatewayClient(
                gateways: try gateways(
                    "  - { name: primary, url: \"\(base)\", format: query, method: GET, split: sparrow }"),
                transport: transport)
            return try await client.submit(
                OutboundMessage(
                    id: "long", to: "+8613800138000", text: String(repeating: "x", count: 400), gateway: "primary"))
        }
        // An id per part, for its receipt.
        #expect(outcome.status == .accepted(gatewayIDs: ["sim-1", "sim-2", "sim-3"]))
        #expect(outcome.attempts == 3)
        #expect(simulator.stats.messages == 3)
    }
}

extension SubmitOutcome.Status {
    var reason: String {
        switch self {
        case .failed(let reason), .unknown(let reason), .blacklisted(let reason), .deferred(let reason, _): reason
        case .accepted: ""
        }
    }

    var gatewayIDs: [String] {
        if case .accepted(let ids) = self { return ids }
        return []
    }
}
