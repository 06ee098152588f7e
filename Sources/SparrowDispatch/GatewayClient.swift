import Foundation
public import SparrowConfig
public import SparrowCore
public import SparrowTransport
import Synchronization

/// One message to submit: its number, full text, Sparrow's id (the idempotency key, the same for every attempt)
/// and the gateway the plan chose.
public struct OutboundMessage: Sendable, Hashable {
    public var id: String
    public var to: String
    public var text: String
    public var gateway: String

    public init(id: String, to: String, text: String, gateway: String) {
        self.id = id
        self.to = to
        self.text = text
        self.gateway = gateway
    }
}

/// How a submit ended.
public struct SubmitOutcome: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        /// The gateway took the message (every part of it), with the ids it gave, one per request: one for a
        /// message it splits itself, one per part for a message Sparrow split; none when it gives no ids.
        case accepted(gatewayIDs: [String])
        /// The gateway refused it, or it could not be sent within the retry policy.
        case failed(reason: String)
        /// The message may or may not have reached the gateway; it is not resent, and receipts settle it.
        case unknown(reason: String)
    }

    public var status: Status
    /// The gateway that last handled it (a backup after failover).
    public var gateway: String
    /// Requests sent, over all parts and retries.
    public var attempts: Int
    public var latency: Duration
}

/// Submits messages to the configured gateways: builds each request with the gateway's dialect, sends it through
/// the transport, and follows the retry state machine and the circuit breakers — Retry-After pauses the whole
/// gateway, an open breaker fails new messages over to the backup and back after a healthy probe, and the
/// idempotency key stays the same across retries.
///
/// Submits run concurrently in the caller's tasks; the shared state (breakers, pauses, permits) is small and
/// locked, so no actor hop happens per message.
public final class GatewayClient: Sendable {
    private let gateways: [String: SparrowConfiguration.Gateway]
    private let transport: CurlTransport
    private let health: Mutex<Health>
    private let permits: [String: AsyncPermits]
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    private struct Health {
        var router: GatewayRouter
        var pausedUntil: [String: ContinuousClock.Instant] = [:]
        var random: SplitMix64
    }

    public init(
        gateways: [SparrowConfiguration.Gateway], transport: CurlTransport,
        breaker: CircuitBreaker.Configuration = .init(), seed: UInt64 = .random(in: 1...UInt64.max)
    ) {
        self.gateways = Dictionary(uniqueKeysWithValues: gateways.map { ($0.name, $0) })
        self.transport = transport
        let backups = Dictionary(uniqueKeysWithValues: gateways.compactMap { gateway in gateway.backup.map { (gateway.name, $0) } })
        health = Mutex(Health(router: GatewayRouter(backups: backups, breaker: breaker), random: SplitMix64(seed: seed)))
        permits = Dictionary(uniqueKeysWithValues: gateways.map { ($0.name, AsyncPermits($0.maxInFlight)) })
        start = clock.now
    }

    /// Whether `gateway` is configured (a resumed campaign's journal may name one removed since).
    public func isConfigured(_ gateway: String) -> Bool {
        gateways[gateway] != nil
    }

    /// The gateway a message goes to, chosen before its request: the planned one, or its backup while the planned
    /// one's circuit is open.
    public struct Route: Sendable, Hashable {
        public var gateway: String
        /// This message is the probe of a half-open circuit.
        var probe = false

        /// A message pinned to `gateway`: one that may already have reached it goes there again, or nowhere.
        public static func pinned(_ gateway: String) -> Route { Route(gateway: gateway) }
    }

    /// The gateway for a new message planned for `planned`, waiting while every gateway of its chain is open.
    /// - Precondition: `planned` is configured.
    public func route(_ planned: String) async -> Route {
        while true {
            let now = clock.now - start
            switch health.withLock({ $0.router.route(from: planned, now: now) }) {
            case .send(let gateway, let probe):
                return Route(gateway: gateway, probe: probe)
            case .hold(let until):
                try? await clock.sleep(for: max((until ?? now + .milliseconds(100)) - now, .milliseconds(10)))
            }
        }
    }

    /// Submits `message` after routing it, retrying and failing over as the configuration allows.
    /// - Precondition: `message.gateway` is configured.
    public func submit(_ message: OutboundMessage) async -> SubmitOutcome {
        await submit(message, via: route(message.gateway))
    }

    /// Submits `message` to the gateway of `route`, retrying as its policy allows; it does not fail over, so that
    /// the journal can name the gateway before the request goes.
    /// - Precondition: `route.gateway` is configured.
    public func submit(_ message: OutboundMessage, via route: Route) async -> SubmitOutcome {
        let began = clock.now
        let (gatewayName, probe) = (route.gateway, route.probe)
        guard let gateway = gateways[gatewayName] else { preconditionFailure("unknown gateway \(gatewayName)") }
        let parts = parts(of: message, for: gateway)
        var attempts = 0
        var ids: [String] = []
        for part in parts {
            let ended = await send(part, via: gateway, probe: probe && part == parts[0], attempts: &attempts)
            switch ended {
            case .accepted(let gatewayIDs):
                ids += gatewayIDs
            case .failed, .unknown:
                return SubmitOutcome(status: ended, gateway: gatewayName, attempts: attempts, latency: clock.now - began)
            }
        }
        return SubmitOutcome(
            status: .accepted(gatewayIDs: ids), gateway: gatewayName, attempts: attempts, latency: clock.now - began)
    }

    /// The requests' contents: the whole text, or one part each with its concatenation header.
    private func parts(of message: OutboundMessage, for gateway: SparrowConfiguration.Gateway) -> [SubmitContent] {
        guard case .bySparrow = gateway.dialect.splitting else {
            return [SubmitContent(to: message.to, text: message.text, id: message.id)]
        }
        let texts = Segmenter.split(message.text)
        guard texts.count > 1 else { return [SubmitContent(to: message.to, text: message.text, id: message.id)] }
        let reference = ConcatenationHeader.reference(for: message.id)
        return texts.enumerated().map { index, text in
            SubmitContent(
                to: message.to, text: String(text), id: "\(message.id)-\(index + 1)",
                udh: ConcatenationHeader.hex(reference: reference, total: texts.count, sequence: index + 1))
        }
    }

    /// Runs one request's state machine to its end.
    private func send(
        _ content: SubmitContent, via gateway: SparrowConfiguration.Gateway, probe: Bool, attempts: inout Int
    ) async -> SubmitOutcome.Status {
        let request: EncodedRequest
        switch gateway.dialect.request(for: content, now: wallClock()) {
        case .success(let encoded): request = encoded
        case .failure(let missing):
            if probe {  // nothing was sent: let the next message probe instead
                let now = clock.now - start
                health.withLock { $0.router.record(.inconclusive, gateway: gateway.name, probe: true, now: now) }
            }
            return .failed(reason: "gateway field needs '\(missing.name)'")
        }
        var machine = SubmitStateMachine(policy: gateway.retry)
        var action = machine.start()
        var isProbe = probe
        var rejection: String?  // the gateway's own reason for its last refusal, read through the dialect
        while true {
            switch action {
            case .send:
                await waitWhilePaused(gateway.name)
                attempts += 1
                let result = await permits[gateway.name]!.withPermit {
                    await transport.perform(Self.transferRequest(request, gateway: gateway))
                }
                let now = clock.now - start
                health.withLock { $0.router.record(BreakerOutcome(result), gateway: gateway.name, probe: isProbe, now: now) }
                isProbe = false
                if case .answered(let answer) = result {
                    switch gateway.dialect.read(status: answer.status, body: answer.body) {
                    case .accepted(let gatewayID):
                        return .accepted(gatewayIDs: gatewayID.map { [$0] } ?? [])
                    case .rejected(let status, let reason) where gateway.dialect.reading.successStatuses.contains(status):
                        return .failed(reason: reason)  // a success status whose body says otherwise
                    case .rejected(let status, let reason):
                        rejection = "HTTP \(status): \(reason)"
                    }
                } else {
                    rejection = nil
                }
                action = health.withLock { health in
                    machine.transferEnded(result, now: wallClock(), random: &health.random)
                }
            case .retry(let attempt, let delay):
                try? await clock.sleep(for: delay)
                action = .send(attempt: attempt)
            case .pauseGateway(let pause, let attempt):
                let until = clock.now + pause
                health.withLock { health in
                    health.pausedUntil[gateway.name] = max(health.pausedUntil[gateway.name] ?? until, until)
                }
                action = .send(attempt: attempt)
            case .succeeded:
                return .accepted(gatewayIDs: [])
            case .failed(let reason, _):
                return .failed(reason: rejection ?? reason)
            case .unknown(let reason, _):
                return .unknown(reason: reason)
            }
        }
    }

    private func waitWhilePaused(_ gateway: String) async {
        while let until = health.withLock({ $0.pausedUntil[gateway] }), until > clock.now {
            try? await clock.sleep(until: until)
        }
    }

    private func wallClock() -> Timestamp {
        Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970))
    }

    private static func transferRequest(_ request: EncodedRequest, gateway: SparrowConfiguration.Gateway) -> GatewayRequest {
        GatewayRequest(
            url: request.url, method: GatewayRequest.Method(rawValue: request.method.rawValue)!, headers: request.headers,
            body: request.body, timeout: gateway.timeout,
            connection: .init(
                httpVersion: gateway.httpVersion == .http2 ? .http2 : .http1_1, connectTimeout: gateway.connectTimeout,
                verifyTLS: gateway.verifyTLS, caFile: gateway.caFile, followRedirects: gateway.followRedirects))
    }
}
