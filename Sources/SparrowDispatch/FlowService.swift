public import CoreMetrics
public import Logging
import ServiceLifecycle
public import SparrowCore
public import SparrowStore

/// `sparrow flows`: takes order events, keeps each rule's pending messages as durable timers in the store, and
/// when one comes due decides again whether it still goes (cancelled by a later event, quiet hours, the order's
/// deadline, suppression, the marketing cap) before it is journaled and sent through the same lanes and gateways as
/// a campaign's messages.
///
/// Each rule's messages belong to the campaign `flow.RULE`, at the line of their timer, under an id made from it: a
/// timer fires once, its message is journaled in the same transaction, and a restart finishes the journal as
/// `resume` does, so that a crash neither loses nor doubles a message.
public struct FlowService: Sendable {
    public let scheduler: FlowScheduler
    public let store: any FlowStore
    /// The configuration's plan settings; each step's template and segment limit replace theirs.
    private let plan: PlanSettings
    private let zones: any ZoneRulesProvider
    private let clock: CampaignClock
    private let engine: SubmitEngine
    private let recovery: @Sendable (FlowRule) -> CampaignRun
    private let metrics: FlowMetrics
    private let logger: Logger

    public init(
        scheduler: FlowScheduler, plan: PlanSettings, zones: any ZoneRulesProvider, store: any FlowStore,
        client: GatewayClient, idempotentGateways: Set<String>, carriers: [Carrier], window: Int,
        clock: CampaignClock, progress: SendProgress = SendProgress(), logger: Logger = Logger(label: "sparrow"),
        metrics: any MetricsFactory = MetricsSystem.factory
    ) {
        self.scheduler = scheduler
        self.store = store
        self.plan = plan
        self.zones = zones
        self.clock = clock
        self.logger = logger
        self.metrics = FlowMetrics(factory: metrics)
        // Quiet hours were the flow's decision: the engine sends what fires.
        engine = SubmitEngine(
            store: store, client: client, carriers: carriers, window: window, clock: clock, quietHours: nil,
            progress: progress, logger: logger, metrics: metrics)
        recovery = { rule in
            CampaignRun(
                options: .init(
                    campaign: rule.campaign, template: rule.steps[0].template.source, waitForDeferred: false,
                    window: window, maxSegments: rule.maxSegments),
                store: store, client: client, idempotentGateways: idempotentGateways, carriers: carriers,
                quietHours: nil, clock: clock, progress: progress, logger: logger, metrics: metrics)
        }
    }

    /// Records each rule's campaign, and finishes what an earlier run left in their journals: messages in flight
    /// when it stopped are sent again under their keys, or recorded unknown, as `resume` does.
    private func recover() async throws {
        for rule in scheduler.rules { _ = try await recovery(rule).run(reading: nil) }
        try await store.setTransactional(scheduler.rules.filter { $0.purpose == .transactional }.map(\.campaign))
    }

    /// Takes one event: recorded once, folded into its order, cancelling and setting timers, in one transaction.
    /// - Returns: the order as its events now tell it; nil when the event was taken before.
    @discardableResult
    public func ingest(_ event: OrderEvent) async throws -> FlowOrder? {
        let ingested = try await store.ingest([event], scheduler: scheduler, stopAtDue: false)[0]
        metrics.event(new: ingested != nil)
        return ingested
    }

    /// Fires the timers as they come due, on the clock, until a graceful shutdown or cancellation; the requests in
    /// flight are answered and recorded before it returns.
    public func run() async throws {
        try await recover()
        _ = try await engine.submit { ready in
            while !Task.isShuttingDownGracefully {
                let now = clock.now()
                guard try await fireDue(now: now, into: ready) else { return }
                let wake = min(try await nextWake() ?? now + 1, now + 1)
                guard try await untilGracefulShutdown({ try await clock.sleep(until: wake) }) != nil else { return }
            }
        }
    }

    /// Replays an event log on its own time: before each event, the timers due by its time fire; after the last,
    /// every timer left fires at its time. Returns when every message is answered, or at a graceful shutdown.
    ///
    /// `time` starts where an earlier replay into the store stopped (`FlowStore.lastFlowActivity()`), or before the
    /// log: what an earlier run left in the journal is finished once the log's first event has set the time.
    package func replay(_ events: BoundedQueue<[OrderEvent]>, time: EventTime) async throws {
        _ = try await engine.submit { ready in
            var recovered = false
            for try await batch in events {
                // In one transaction, as many events as come before the next timer.
                var rest = batch[...]
                while let first = rest.first {
                    guard !Task.isShuttingDownGracefully else { return }
                    if !recovered {
                        time.advance(to: first.at)
                        try await recover()
                        recovered = true
                    }
                    // Each timer due before the event fires at its own time, then the event is taken.
                    while let next = try await nextWake(), next <= first.at {
                        time.advance(to: next)
                        guard try await fireDue(now: time.now, into: ready) else { return }
                    }
                    time.advance(to: first.at)
                    let taken = try await store.ingest(rest, scheduler: scheduler, stopAtDue: true)
                    for order in taken { metrics.event(new: order != nil) }
                    rest = rest.dropFirst(taken.count)
                    time.advance(to: batch[batch.index(before: rest.startIndex)].at)
                }
            }
            if !recovered { try await recover() }
            while !Task.isShuttingDownGracefully, let next = try await nextWake() {
                time.advance(to: next)
                guard try await fireDue(now: time.now, into: ready) else { return }
            }
        }
    }

    /// When something is next due: a timer, or a message a gateway deferred.
    private func nextWake() async throws -> Timestamp? {
        try await store.nextFlowWake(campaigns: scheduler.rules.map(\.campaign))
    }

    /// Decides every timer due by `now`, journals the messages that go together with their timers' outcomes, and
    /// hands them to the lanes; then the deferred messages due.
    /// - Returns: false when the lanes take no more.
    private func fireDue(now: Timestamp, into ready: BoundedQueue<[JournalEntry]>) async throws -> Bool {
        while true {
            let due = try await store.dueFlowTimers(by: now, limit: 256)
            guard !due.isEmpty else { break }
            var capped: Set<UInt64> = []  // marketing numbers given a message in this batch
            var outcomes: [(timer: Int, outcome: FlowTimerOutcome)] = []
            for timer in due {
                let outcome = try await outcome(of: timer, now: now, capped: &capped)
                outcomes.append((timer.timer.id, outcome))
                metrics.timer(rule: timer.timer.rule, outcome)
            }
            try await store.settleFlowTimers(outcomes, at: now)
            let entries = outcomes.compactMap { if case .sent(let entry) = $0.outcome { entry } else { nil } }
            logger.debug(
                "flow timers came due", metadata: ["timers": "\(due.count)", "sent": "\(entries.count)"])
            if !entries.isEmpty, try await !ready.put(entries) { return false }
        }
        let campaigns = scheduler.rules.map(\.campaign)
        while true {
            let released = try await store.releaseDeferred(campaigns: campaigns, dueBy: now, limit: 1024)
            guard !released.isEmpty else { return true }
            if try await !ready.put(released) { return false }
        }
    }

    /// What becomes of one due timer, asking the store what its rule's decision needs.
    private func outcome(of due: DueFlowTimer, now: Timestamp, capped: inout Set<UInt64>) async throws
        -> FlowTimerOutcome
    {
        let (timer, order) = (due.timer, due.order)
        var facts = FlowScheduler.Facts()
        if let rule = scheduler.rule(named: timer.rule), let phone = scheduler.recipient(of: rule, order) {
            if rule.cancelledByLaterOrder {
                facts.laterOrder = try await store.hasLaterOrder(phone: phone, after: timer.trigger, than: order)
            }
            if rule.needsDayTotal {
                let (from, to) = scheduler.day(of: timer.trigger, in: scheduler.zone(of: phone))
                facts.dayTotal = try await store.flowDayTotal(phone: phone, from: from, to: to)
            }
        }
        switch scheduler.decide(timer, order: order, now: now, facts: facts) {
        case .skip(let reason): return .skipped(reason)
        case .cancel(let reason): return .cancelled(reason)
        case .postpone(let time): return .postponed(time)
        case .send(let rule, let step, let phone):
            var settings = plan
            settings.template = step.template
            settings.maxSegments = rule.maxSegments
            settings.quietHours = nil  // decided above, with the order's deadline
            var planner = Planner(settings: settings, zones: zones)
            var values = order.fields
            values["buyer_phone"] = order.phone
            values["phone"] = phone
            switch planner.plan(RecipientRow(line: timer.id, values: TemplateValues(values)), now: now) {
            case .failure(let rejection): return .skipped("\(FlowSkip.rejected): \(rejection.reason.code)")
            case .success(let message):
                let number = message.number.e164Value
                if try await !store.suppressed(among: [number]).isEmpty {
                    return .skipped(FlowSkip.suppressed.rawValue)
                }
                if rule.purpose == .marketing {
                    let marketing = scheduler.rules.filter { $0.purpose == .marketing }.map(\.campaign)
                    let sent = try await store.marketingSent(
                        among: [number], since: now + -86_400, marketing: marketing)
                    guard !capped.contains(number), sent.isEmpty else {
                        return .skipped(FlowSkip.frequencyCap.rawValue)
                    }
                    capped.insert(number)
                }
                return .sent(
                    JournalEntry(
                        id: MessageID.make(campaign: rule.campaign, line: timer.id, e164: message.number.e164),
                        campaign: rule.campaign, line: timer.id, to: message.number.e164, carrier: message.carrier,
                        gateway: message.gateway, text: message.text, segments: message.segments.segments,
                        throttleUnits: message.throttleUnits, cost: message.cost, sendAt: now, state: .ready,
                        timeZone: message.timeZone, parameters: message.parameters))
            }
        }
    }
}

/// The flows' counters: events taken (new or seen before) and timers by rule and outcome.
private struct FlowMetrics: Sendable {
    let factory: any MetricsFactory

    func event(new: Bool) {
        Counter(label: "sparrow_flow_events_total", dimensions: [("new", "\(new)")], factory: factory).increment()
    }

    func timer(rule: String, _ outcome: FlowTimerOutcome) {
        let name =
            switch outcome {
            case .sent: "sent"
            case .skipped: "skipped"
            case .cancelled: "cancelled"
            case .postponed: "postponed"
            }
        Counter(label: "sparrow_flow_timers_total", dimensions: [("rule", rule), ("outcome", name)], factory: factory)
            .increment()
    }
}
