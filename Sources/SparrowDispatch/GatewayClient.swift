import Foundation
public import SparrowCore
public import SparrowTransport
public import CoreMetrics
public import Logging
import Synchronization

/// One message to submit: its number, full text, Sparrow's id (the idempotency key, the same for every attempt),
/// the gateway the plan chose, and for an approved template the values of its placeholders.
public struct OutboundMessage: Sendable, Hashable {
    public var id: String
    public var to: String
    public var text: String
    public var gateway: String
    public var parameters: [String]
    /// The approved template it sends, when not the client's own (a flow's rule names its own).
    public var template: ApprovedTemplate?

    public init(
        id: String, to: String, text: String, gateway: String, parameters: [String] = [],
        template: ApprovedTemplate? = nil
    ) {
        self.id = id
        self.to = to
        self.text = text
        self.gateway = gateway
        self.parameters = parameters
        self.template = template
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
        /// The gateway refused the number itself (its blacklist): the message failed, and the number is suppressed.
        case blacklisted(reason: String)
        /// The gateway takes it later (a frequency limit, its marketing hours): it goes again after `for`.
        case deferred(reason: String, for: Duration)
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
/// Submits run as chains of completions on the transport's thread, with no task per message. The breakers are the
/// `GatewayHealth` actor's: a lane's group is routed in one call to it, and the transfers' outcomes reach it in
/// batches. What every request's start reads (a gateway's pause, its free slots) stays with the gateway, locked.
public final class GatewayClient: Sendable {
    private let destinations: [String: Destination]
    private let transport: CurlTransport
    private let health: GatewayHealth
    private let clock: RunClock
    private let logger: Logger
    /// The retry schedules' jitter: each submission that retries draws from a generator of its own, seeded from
    /// `seed` and the count of those before it.
    private let seed: UInt64
    private let retrySchedules = Atomic<UInt64>(0)

    /// A gateway and what the client keeps for it, shared by reference: each step of a submit carries one pointer,
    /// not a copy of the whole configuration.
    private final class Destination: Sendable {
        let gateway: GatewayEndpoint
        /// Its requests in flight, at most its `max_in_flight`.
        let permits: AsyncPermits
        /// The id the campaign's approved template has at this gateway, and the names of its placeholders.
        let templateID: String?
        let parameterNames: [String]
        /// Until when it asked for a pause (Retry-After), on the client's clock: nothing is sent to it before. Every
        /// request's start reads it, on the transport's thread.
        let pausedUntil = Lock<Duration?>(nil)
        /// Its requests answered with a retry, and its messages that ended failed or unknown, by reason.
        let retries: [Reason: Counter]
        let failures: [Reason: Counter]

        init(_ gateway: GatewayEndpoint, approved: ApprovedTemplate?, metrics: any MetricsFactory) {
            self.gateway = gateway
            templateID = approved?.ids[gateway.name]
            parameterNames = approved?.variables ?? []
            permits = AsyncPermits(gateway.maxInFlight)
            func counters(_ label: String) -> [Reason: Counter] {
                Dictionary(
                    uniqueKeysWithValues: Reason.allCases.map { reason in
                        let dimensions = [("gateway", gateway.name), ("reason", reason.rawValue)]
                        return (reason, Counter(label: label, dimensions: dimensions, factory: metrics))
                    })
            }
            retries = counters("sparrow_submit_retries_total")
            failures = counters("sparrow_submit_failures_total")
        }
    }

    /// - Parameter approved: the approved template the campaign sends; nil for free text.
    public init(
        gateways: [GatewayEndpoint], transport: CurlTransport, approved: ApprovedTemplate? = nil,
        breaker: CircuitBreaker.Configuration = .init(), seed: UInt64 = .random(in: 1...UInt64.max),
        clock: RunClock = .continuous, logger: Logger = Logger(label: "sparrow"),
        metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        destinations = Dictionary(
            uniqueKeysWithValues: gateways.map {
                ($0.name, Destination($0, approved: approved, metrics: metrics))
            })
        self.transport = transport
        let backups = Dictionary(
            uniqueKeysWithValues: gateways.compactMap { gateway in gateway.backup.map { (gateway.name, $0) } })
        health = GatewayHealth(
            gateways: gateways.map(\.name), backups: backups, breaker: breaker, clock: clock, logger: logger,
            metrics: metrics)
        self.seed = seed
        self.clock = clock
        self.logger = logger
    }

    /// Whether `gateway` is configured (a resumed campaign's journal may name one removed since).
    public func isConfigured(_ gateway: String) -> Bool {
        destinations[gateway] != nil
    }

    /// Whether every configured gateway honours idempotency keys, so that whichever one a message is routed to, it
    /// may be sent there again under its key.
    public var everyGatewayHonoursKeys: Bool {
        destinations.values.allSatisfy(\.gateway.retry.honoursIdempotencyKey)
    }

    /// The gateway a message goes to, chosen before its request: the planned one, or its backup while the planned
    /// one's circuit is open.
    public struct Route: Sendable, Hashable {
        public var gateway: String
        /// This message is the probe of a half-open circuit.
        var probe = false
    }

    /// Where a message is to go, before it is routed.
    public enum Placement: Sendable, Hashable {
        /// A new message, to its planned gateway, or to a backup while that one's circuit is open.
        case planned(String)
        /// A message that may already have reached `gateway`: there again, or nowhere.
        case pinned(String)
    }

    /// Routes the leading messages of a group, in order, up to the first one that no gateway of its chain admits now
    /// (their circuits are open, or a probe is in flight); it waits for one to admit it only when it is the first.
    /// - Returns: at least one route, unless `placements` is empty.
    /// - Throws: `CancellationError` when the task is cancelled while it waits.
    /// - Precondition: the placements' gateways are configured.
    public func route(_ placements: [Placement]) async throws -> [Route] {
        try await health.route(placements)
    }

    /// Submits `message` after routing it, retrying and failing over as the configuration allows.
    /// - Throws: `CancellationError` when the task is cancelled while every gateway for it is held; once its
    ///   request has gone, it is answered.
    /// - Precondition: `message.gateway` is configured.
    public func submit(_ message: OutboundMessage) async throws -> SubmitOutcome {
        try await submit(batch: [message])[0]
    }

    /// Submits `messages`, all planned for one gateway, in one request when it batches (else one after another),
    /// after routing them together; returns an outcome per message, in order.
    /// - Throws: `CancellationError` when the task is cancelled while every gateway for them is held.
    /// - Precondition: the messages' gateway is configured; they are at most its batch's size and, when it groups by
    ///   text, have one text.
    public func submit(batch messages: [OutboundMessage]) async throws -> [SubmitOutcome] {
        let route = try await route([.planned(messages[0].gateway)])[0]
        return await withCheckedContinuation { continuation in
            submit(messages, via: route) { continuation.resume(returning: $0) }
        }
    }

    /// What runs when a submit has ended, with an outcome per message: on the transport's thread, or on a timer's
    /// after a wait. It must be brief and must never block.
    public typealias Completion = @Sendable ([SubmitOutcome]) -> Void

    /// The most messages a request to any configured gateway carries.
    public var largestBatch: Int {
        destinations.values.map { $0.gateway.dialect.batch?.max ?? 1 }.max() ?? 1
    }

    /// How `gateway` takes several messages in one request; nil when it takes one a request.
    /// - Precondition: `gateway` is configured.
    public func batch(of gateway: String) -> GatewayDialect.Batch? {
        destinations[gateway]!.gateway.dialect.batch
    }

    /// Submits `messages` to the gateway of `route` (in one request when it batches them, else one message), retrying
    /// as its policy allows, and hands their outcomes to `completion`; it does not fail over, so that the journal can
    /// name the gateway before the request goes.
    ///
    /// Nothing waits in a task while the request is out: each step runs as the completion of the one before, on the
    /// transport's thread, the way a C client's loop does. Only waits (a retry's back-off, a gateway's pause, a
    /// full gateway) leave it, and resume it from a timer or from the completion that frees a slot.
    /// - Precondition: `route.gateway` is configured; one message when it does not batch, else at most its batch's
    ///   size, with one text when it groups by text.
    public func submit(_ messages: [OutboundMessage], via route: Route, completion: @escaping Completion) {
        guard let destination = destinations[route.gateway] else {
            preconditionFailure("unknown gateway \(route.gateway)")
        }
        let batched = destination.gateway.dialect.batch != nil
        precondition(batched || messages.count == 1, "a batch for \(route.gateway)")
        let contents =
            batched
            ? messages.map {
                SubmitContent(
                    to: $0.to, text: $0.text, id: $0.id,
                    templateID: $0.template.map { $0.ids[route.gateway] } ?? destination.templateID,
                    parameters: $0.parameters, parameterNames: $0.template?.variables ?? destination.parameterNames)
            } : parts(of: messages[0], for: destination.gateway)
        startRequest(
            Submission(
                destination: destination, contents: contents, batched: batched, probe: route.probe, began: clock.now,
                completion: completion))
    }

    /// Messages on their way through their requests and the requests' attempts: one message whole, one message part
    /// by part, or a batch of messages in one request. One object goes from step to step, so that no step copies
    /// what the submission carries.
    ///
    /// `@unchecked Sendable`, safe because one step at a time holds it: a step touches it, then hands it to exactly
    /// one next step (the transport's completion, a permit's grant, a timer's task) and touches it no more. Each of
    /// those hand-offs passes through a lock, the transport's queue or a task's start, which orders the next step's
    /// accesses after the last one's, so no two threads ever reach its fields at once.
    private final class Submission: @unchecked Sendable {
        let destination: Destination
        /// What the requests carry: one message's parts (or the whole message), a request each, or the messages of
        /// a batch, all in one request.
        let contents: [SubmitContent]
        let batched: Bool
        /// This submission is the probe of a half-open circuit: its first request says whether the gateway is back.
        var probe: Bool
        let began: Duration
        let completion: Completion
        /// The request under way: a part's index (0 for a batch's one request).
        var next = 0
        var attempts = 0
        /// The message's ids, one a part; for a batch, how each message ended, as the answer said.
        var gatewayIDs: [String] = []
        var settled: [SubmitOutcome.Status] = []
        /// The current request, its retry state, and the gateway's own reason for its last refusal.
        var request: GatewayRequest?
        var machine: SubmitStateMachine
        var rejection: String?
        /// The jitter of its retries' back-off, from its first retry on.
        var random: SplitMix64?

        init(
            destination: Destination, contents: [SubmitContent], batched: Bool, probe: Bool, began: Duration,
            completion: @escaping Completion
        ) {
            self.destination = destination
            self.contents = contents
            self.batched = batched
            self.probe = probe
            self.began = began
            self.completion = completion
            machine = SubmitStateMachine(policy: destination.gateway.retry)
        }

        var requests: Int { batched ? 1 : contents.count }
        var messages: Int { batched ? contents.count : 1 }

        /// The current request, encoded for its `attempt` at `now`.
        func encoded(now: Timestamp, attempt: Int) -> Result<EncodedRequest, MissingVariable> {
            let dialect = destination.gateway.dialect
            return batched
                ? dialect.request(batch: contents, now: now, attempt: attempt)
                : dialect.request(for: contents[next], now: now)
        }
    }

    /// The requests' contents: the whole text, or one part each with its concatenation header.
    private func parts(of message: OutboundMessage, for gateway: GatewayEndpoint) -> [SubmitContent] {
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

    /// Starts the submission's next request, or ends the submission once every request has been answered.
    private func startRequest(_ submission: Submission) {
        guard submission.next < submission.requests else { return finishAnswered(submission) }
        let destination = submission.destination  // its configuration read in place, not copied
        switch submission.encoded(now: Timestamp.wallClock(), attempt: 1) {
        case .success(let encoded):
            submission.request = destination.gateway.transferRequest(encoded)
        case .failure(let missing):
            if submission.probe {  // nothing was sent: let the next message probe instead
                health.report(
                    .init(gateway: destination.gateway.name, outcome: .inconclusive, probe: true, at: clock.now))
            }
            destination.failures[.missingField]!.increment(by: submission.messages)
            return finish(submission, .failed(reason: "gateway field needs '\(missing.name)'"))
        }
        submission.machine = SubmitStateMachine(policy: destination.gateway.retry)
        submission.rejection = nil
        let action = submission.machine.start()
        act(action, submission)
    }

    /// Carries out what the request's state machine decided.
    private func act(_ action: SubmitStateMachine.Action, _ submission: Submission) {
        switch action {
        case .send:
            if let until = submission.destination.pausedUntil.withLock({ $0 }), until > clock.now {
                return after(until - clock.now) { self.act(action, submission) }
            }
            submission.destination.permits.acquire { self.send(submission) }
        case .retry(let attempt, let delay):
            after(delay) { self.act(.send(attempt: attempt), submission) }
        case .pauseGateway(let pause, let attempt):
            let now = clock.now
            let until = now + pause
            let paused = submission.destination.pausedUntil.withLock { pausedUntil in
                defer { pausedUntil = max(pausedUntil ?? until, until) }
                return pausedUntil.map { $0 > now } ?? false
            }
            if !paused {
                logger.notice(
                    "the gateway asked for a pause (Retry-After): nothing is sent to it meanwhile",
                    metadata: ["gateway.name": "\(submission.destination.gateway.name)", "pause": "\(pause)"])
            }
            act(.send(attempt: attempt), submission)
        case .succeeded:
            submission.next += 1
            startRequest(submission)
        case .failed(let reason, _):
            finish(submission, .failed(reason: submission.rejection ?? reason))
        case .unknown(let reason, _):
            finish(submission, .unknown(reason: reason))
        }
    }

    /// Sends the current request, holding one of the gateway's slots, and reads the answer when it comes. A provider's
    /// request is signed anew for each attempt after the first: a fresh time, and a nonce of its own.
    private func send(_ submission: Submission) {
        submission.attempts += 1
        let destination = submission.destination
        if submission.attempts > 1, destination.gateway.dialect.provider != nil,
            case .success(let encoded) = submission.encoded(now: Timestamp.wallClock(), attempt: submission.attempts)
        {
            submission.request = destination.gateway.transferRequest(encoded)
        }
        transport.send(submission.request!) { result in
            submission.destination.permits.release()
            self.transferEnded(result, submission)
        }
    }

    private func transferEnded(_ result: TransferResult, _ submission: Submission) {
        let destination = submission.destination  // its configuration read in place, not copied
        health.report(
            .init(
                gateway: destination.gateway.name, outcome: BreakerOutcome(result), probe: submission.probe,
                at: clock.now))
        submission.probe = false
        if case .answered(let answer) = result {
            let dialect = destination.gateway.dialect
            let reading =
                submission.batched
                ? dialect.read(status: answer.status, body: answer.body, batch: submission.contents)
                : .whole(dialect.read(status: answer.status, body: answer.body))
            switch reading {
            case .each(let readings):
                submission.settled = readings.map { reading in
                    switch reading {
                    case .accepted(let gatewayID)?: .accepted(gatewayIDs: gatewayID.map { [$0] } ?? [])
                    case .rejected(_, let reason)?: .failed(reason: reason)
                    case .blacklisted(let reason)?: .blacklisted(reason: reason)
                    case .deferred(let reason, let delay)?: .deferred(reason: reason, for: delay)
                    // This number alone failed for now: it waits a little, in the journal.
                    case .retry(let reason)?: .deferred(reason: reason, for: Self.numberRetryDelay)
                    case nil: .unknown(reason: "the gateway's answer has no result for it")
                    }
                }
                submission.next += 1
                return startRequest(submission)
            case .whole(.accepted(let gatewayID)) where submission.batched:
                // A batch's one id is shared: with the number, it names each message, as receipts do.
                submission.settled = submission.contents.map { content in
                    .accepted(
                        gatewayIDs: gatewayID.map { [GatewayDialect.batchMessageID(batch: $0, number: content.to)] }
                            ?? [])
                }
                submission.next += 1
                return startRequest(submission)
            case .whole(.accepted(let gatewayID)):
                if let gatewayID { submission.gatewayIDs.append(gatewayID) }
                submission.next += 1
                return startRequest(submission)
            case .whole(.rejected(let status, let reason))
            where destination.gateway.dialect.reading.successStatuses.contains(status):
                destination.failures[.refusedInBody]!.increment(by: submission.messages)
                return finish(submission, .failed(reason: reason))  // a success status whose body says otherwise
            case .whole(.rejected(let status, let reason)):
                submission.rejection = "HTTP \(status): \(reason)"
            case .whole(.blacklisted(let reason)):
                return finish(submission, .blacklisted(reason: reason))
            case .whole(.deferred(let reason, let delay)):
                return finish(submission, .deferred(reason: reason, for: delay))
            case .whole(.retry(let reason)):
                // Tried again as after a 503: nothing of the request was taken.
                submission.rejection = reason
                return proceed(
                    submission, after: .answered(HTTPAnswer(status: 503, retryAfter: nil, body: answer.body)))
            }
        } else {
            submission.rejection = nil
        }
        proceed(submission, after: result)
    }

    /// How long a number of a batch waits when the gateway failed it alone, for now.
    private static let numberRetryDelay: Duration = .seconds(60)

    /// Asks the request's state machine what follows `result`, and does it.
    private func proceed(_ submission: Submission, after result: TransferResult) {
        let destination = submission.destination
        var random =
            submission.random ?? SplitMix64(seed: seed &+ retrySchedules.wrappingAdd(1, ordering: .relaxed).oldValue)
        let action = submission.machine.transferEnded(result, now: Timestamp.wallClock(), random: &random)
        submission.random = random
        switch action {
        case .retry, .pauseGateway: destination.retries[Reason(TransferVerdict(result))]!.increment()
        case .failed, .unknown:
            destination.failures[Reason(TransferVerdict(result))]!.increment(by: submission.messages)
        case .send, .succeeded: break
        }
        act(action, submission)
    }

    /// Why a request was tried again or a message ended without being accepted: a bounded label for metrics.
    enum Reason: String, CaseIterable {
        /// Nothing reached the gateway (it could not be resolved or connected, say).
        case notSent = "not-sent"
        /// 429 or 503.
        case throttled
        /// The gateway refused the message (4xx).
        case rejected
        /// Its TLS certificate did not verify.
        case misconfigured
        /// The request left and no usable answer came (a 5xx, a reset, a timeout).
        case ambiguous
        /// A success status whose body said the message was refused.
        case refusedInBody = "refused-in-body"
        /// The gateway's request needs a value the message lacks.
        case missingField = "missing-field"

        init(_ verdict: TransferVerdict) {
            switch verdict {
            case .notSent, .accepted: self = .notSent
            case .throttled: self = .throttled
            case .rejected: self = .rejected
            case .misconfigured: self = .misconfigured
            case .ambiguous: self = .ambiguous
            }
        }
    }

    /// Ends the submission once its requests are answered: the message accepted, or each message of a batch as the
    /// answer said (accepted, refused alone, or without a result in it, and so unknown).
    private func finishAnswered(_ submission: Submission) {
        let latency = clock.now - submission.began
        let destination = submission.destination
        func outcome(_ status: SubmitOutcome.Status) -> SubmitOutcome {
            SubmitOutcome(
                status: status, gateway: destination.gateway.name, attempts: submission.attempts, latency: latency)
        }
        guard submission.batched else {
            return submission.completion([outcome(.accepted(gatewayIDs: submission.gatewayIDs))])
        }
        submission.completion(
            submission.settled.map { status in
                switch status {
                case .failed, .blacklisted: destination.failures[.refusedInBody]!.increment()
                case .unknown: destination.failures[.ambiguous]!.increment()
                case .accepted, .deferred: break
                }
                return outcome(status)
            })
    }

    /// Ends every message of the submission with `status`.
    private func finish(_ submission: Submission, _ status: SubmitOutcome.Status) {
        let outcome = SubmitOutcome(
            status: status, gateway: submission.destination.gateway.name, attempts: submission.attempts,
            latency: clock.now - submission.began)
        submission.completion(Array(repeating: outcome, count: submission.messages))
    }

    /// Runs `step` after `delay`, from a task of its own: waits are rare (back-off, pauses), so a task each is cheap.
    /// The task is nobody's child, so no cancellation cuts the wait short: a message whose request has gone is
    /// carried to its answer, and `step` always runs.
    private func after(_ delay: Duration, _ step: @escaping @Sendable () -> Void) {
        Task {
            try? await clock.sleep(for: delay)
            step()
        }
    }
}

extension Timestamp {
    /// The system's time now: what a request is signed with, since the provider checks it against its own clock.
    static func wallClock() -> Timestamp {
        Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970))
    }
}

extension GatewayEndpoint {
    /// An encoded request as the transport sends it to this gateway: with its timeout and connection settings.
    func transferRequest(_ request: EncodedRequest) -> GatewayRequest {
        GatewayRequest(
            url: request.url, method: GatewayRequest.Method(rawValue: request.method.rawValue)!,
            headers: request.headers, body: request.body, timeout: timeout, connection: connection)
    }
}
