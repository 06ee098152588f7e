public import CoreMetrics
public import Logging
import ServiceLifecycle
import Synchronization
public import SparrowCore
public import SparrowPostgres
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
    /// The configuration's plan settings for a step's message; the rule's segment limit replaces theirs.
    private let settings: @Sendable (CampaignMessage) -> PlanSettings
    private let zones: any ZoneRulesProvider
    private let clock: CampaignClock
    private let engine: SubmitEngine
    private let recovery: @Sendable (FlowRule) -> CampaignRun
    private let metrics: FlowMetrics
    private let logger: Logger
    /// The limits on each number's marketing messages.
    private let cap: MarketingCap
    /// The last day each birthday rule passed: read from the store once, then kept here (one service a store).
    private let passed = PassedDays()

    public init(
        scheduler: FlowScheduler, settings: @escaping @Sendable (CampaignMessage) -> PlanSettings,
        zones: any ZoneRulesProvider, store: any FlowStore,
        client: GatewayClient, idempotentGateways: Set<String>, carriers: [Carrier], window: Int,
        clock: CampaignClock, cap: MarketingCap = MarketingCap(), progress: SendProgress = SendProgress(),
        logger: Logger = Logger(label: "sparrow"), metrics: any MetricsFactory = MetricsSystem.factory,
        sharedRates: SharedRates? = nil
    ) {
        self.cap = cap
        self.scheduler = scheduler
        self.store = store
        self.settings = settings
        self.zones = zones
        self.clock = clock
        self.logger = logger
        self.metrics = FlowMetrics(factory: metrics)
        // Quiet hours were the flow's decision: the engine sends what fires.
        let templates = Dictionary(
            scheduler.rules.compactMap { rule in rule.approved.map { (rule.campaign, $0) } },
            uniquingKeysWith: { a, _ in a })
        engine = SubmitEngine(
            store: store, client: client, carriers: carriers, window: window, clock: clock, quietHours: nil,
            progress: progress, logger: logger, metrics: metrics, templates: templates, sharedRates: sharedRates)
        recovery = { rule in
            CampaignRun(
                options: .init(
                    campaign: rule.campaign, template: rule.approved?.text ?? rule.steps[0].template.source,
                    waitForDeferred: false, window: window, approved: rule.approved?.name, maxSegments: rule.maxSegments
                ),
                store: store, client: client, idempotentGateways: idempotentGateways, carriers: carriers,
                quietHours: nil, clock: clock, progress: progress, logger: logger, metrics: metrics,
                templates: templates, sharedRates: sharedRates)
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
                guard try await fireDue(upTo: now, into: ready) else { return }
                let wake = min(try await nextWake(passes: true) ?? now + 1, now + 1)
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
                    // The passes and timers due before the event, each at its own time; then the event.
                    guard try await fireDue(upTo: first.at, time: time, into: ready) else { return }
                    time.advance(to: first.at)
                    let taken = try await store.ingest(rest, scheduler: scheduler, stopAtDue: true)
                    for order in taken { metrics.event(new: order != nil) }
                    rest = rest.dropFirst(taken.count)
                    time.advance(to: batch[batch.index(before: rest.startIndex)].at)
                }
            }
            if !recovered { try await recover() }
            // The log's end: its timers fire, each at its own time, and no day's pass runs past it; then the
            // messages a gateway put off, as they come due.
            while !Task.isShuttingDownGracefully, let next = try await nextWake(passes: false) {
                time.advance(to: next)
                guard try await fireDue(upTo: Self.never, passes: false, time: time, into: ready) else { return }
            }
        }
    }

    /// Later than anything is due: the end of a replayed log fires every timer left, each at its own time.
    private static let never = Timestamp(secondsSince1970: 1 << 40)

    /// When something is next due: a timer, a message a gateway deferred, or (with `passes`) a birthday rule's pass.
    private func nextWake(passes: Bool) async throws -> Timestamp? {
        let next = try await store.nextFlowWake(campaigns: scheduler.rules.map(\.campaign))
        guard passes, let pass = try await nextPass() else { return next }
        return min(next ?? pass, pass)
    }

    /// When the next birthday pass is due: the day after each rule's last, or, before its first, today's.
    private func nextPass() async throws -> Timestamp? {
        var next: Timestamp?
        for rule in scheduler.rules {
            guard let birthdays = rule.birthdays else { continue }
            let day = try await lastPass(rule.name).map { $0 + 1 } ?? scheduler.localDay(of: clock.now())
            let time = scheduler.passTime(birthdays, day: day)
            next = min(next ?? time, time)
        }
        return next
    }

    /// The last day the birthday rule passed.
    private func lastPass(_ rule: String) async throws -> Int64? {
        if let known = passed.days.withLock({ $0[rule] }) { return known }
        let day = try await store.lastFlowPass(rule: rule)
        passed.days.withLock { $0[rule] = day }
        return day
    }

    /// Runs the birthday passes due by `now`, a day at a time: each reads its rule's customers file and takes the
    /// day's birthdays as events. A pass the service missed while it was down runs when it is back.
    private func runPasses(dueBy now: Timestamp) async throws {
        for rule in scheduler.rules {
            guard let birthdays = rule.birthdays else { continue }
            var day = try await lastPass(rule.name).map { $0 + 1 } ?? scheduler.localDay(of: now)
            while scheduler.passTime(birthdays, day: day) <= now {
                let (scheduler, passing) = (scheduler, day)
                let events = try await runOnOwnThread {
                    try CustomersFile.read(birthdays.path) {
                        scheduler.birthdayEvent(rule: rule, row: $0, day: passing)
                    }
                }
                var rest = events[...]
                while !rest.isEmpty {
                    let taken = try await store.ingest(rest.prefix(256), scheduler: scheduler, stopAtDue: false)
                    rest = rest.dropFirst(taken.count)
                }
                try await store.recordFlowPass(rule: rule.name, day: day)
                passed.days.withLock { $0[rule.name] = day }
                logger.info(
                    "a birthday pass ran",
                    metadata: ["rule": "\(rule.name)", "day": "\(day)", "birthdays": "\(events.count)"])
                day += 1
            }
        }
    }

    /// Runs the birthday passes due by `limit` (with `passes`), decides every timer due by then, each at its own time
    /// (or now, for one overdue), journals the messages that go together with their timers' outcomes, and hands them
    /// to the lanes; then the messages a gateway deferred that are due. A replay's `time` follows the timers.
    /// - Returns: false when the lanes take no more.
    private func fireDue(
        upTo limit: Timestamp, passes: Bool = true, time: EventTime? = nil, into ready: BoundedQueue<[JournalEntry]>
    ) async throws -> Bool {
        if passes { try await runPasses(dueBy: limit) }
        while true {
            let due = try await store.dueFlowTimers(by: limit, limit: 512)
            guard let last = due.last else { break }
            let outcomes = try await outcomes(of: due)
            for (timer, outcome) in zip(due, outcomes) { metrics.timer(rule: timer.timer.rule, outcome) }
            time?.advance(to: last.timer.dueAt)
            let entries = try await store.settleFlowTimers(
                zip(due, outcomes).map { ($0.timer.id, $1) }, at: clock.now())
            logger.debug("flow timers came due", metadata: ["timers": "\(due.count)", "sent": "\(entries.count)"])
            if !entries.isEmpty, try await !ready.put(entries) { return false }
        }
        let campaigns = scheduler.rules.map(\.campaign)
        while true {
            let released = try await store.releaseDeferred(
                campaigns: campaigns, dueBy: min(limit, clock.now()), limit: 1024)
            guard !released.isEmpty else { return true }
            if try await !ready.put(released) { return false }
        }
    }

    /// What becomes of due timers, in order, each decided at its due time or now, whichever is later: the store is
    /// asked once for the batch's suppressed numbers and their last marketing messages.
    private func outcomes(of due: [DueFlowTimer]) async throws -> [FlowTimerOutcome] {
        var decided: [(time: Timestamp, decision: FlowScheduler.Decision)] = []
        for item in due {
            let (timer, order) = (item.timer, item.order)
            let now = max(timer.dueAt, clock.now())
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
            decided.append((now, scheduler.decide(timer, order: order, now: now, facts: facts)))
        }
        var planned: [Int: Result<PlannedMessage, RowRejection>] = [:]
        for (index, (now, decision)) in decided.enumerated() {
            guard case .send(let rule, let step, let phone) = decision else { continue }
            planned[index] = plan(step, of: rule, for: due[index], to: phone, at: now)
        }
        let numbers = planned.values.compactMap { try? $0.get().number.e164Value }
        let suppressed = try await store.suppressed(among: numbers)
        let marketing = scheduler.rules.filter { $0.purpose == .marketing }.map(\.campaign)
        let marketingNumbers = Set(
            zip(decided.indices, decided).compactMap { index, item -> UInt64? in
                guard case .send(let rule, _, _) = item.decision, rule.purpose == .marketing else { return nil }
                return try? planned[index]?.get().number.e164Value
            })
        let earliest = decided.map(\.time).min() ?? clock.now()
        var marketingSends = try await store.marketingSends(
            among: Array(marketingNumbers), since: earliest + -cap.lookBack, marketing: marketing)
        return decided.enumerated().map { index, item -> FlowTimerOutcome in
            switch item.decision {
            case .skip(let reason): return .skipped(reason)
            case .cancel(let reason): return .cancelled(reason)
            case .postpone(let time): return .postponed(time)
            case .send(let rule, _, _):
                let message: PlannedMessage
                switch planned[index]! {
                case .failure(let rejection): return .skipped("\(FlowSkip.rejected): \(rejection.reason.code)")
                case .success(let planned): message = planned
                }
                let number = message.number.e164Value
                if suppressed.contains(number) { return .skipped(FlowSkip.suppressed.rawValue) }
                if rule.purpose == .marketing {
                    guard cap.allows(at: item.time, after: marketingSends[number] ?? []) else {
                        return .skipped(FlowSkip.frequencyCap.rawValue)
                    }
                    marketingSends[number, default: []].append(item.time)
                }
                return .sent(
                    JournalEntry(
                        id: MessageID.make(
                            campaign: rule.campaign, line: due[index].timer.id, e164: message.number.e164),
                        campaign: rule.campaign, line: due[index].timer.id, to: message.number.e164,
                        carrier: message.carrier, gateway: message.gateway, text: message.text,
                        segments: message.segments.segments, throttleUnits: message.throttleUnits, cost: message.cost,
                        sendAt: item.time, state: .ready, timeZone: message.timeZone, parameters: message.parameters))
            }
        }
    }

    /// A step's message for a due timer's order, planned as a campaign's row is.
    private func plan(
        _ step: FlowRule.Step, of rule: FlowRule, for due: DueFlowTimer, to phone: String, at now: Timestamp
    )
        -> Result<PlannedMessage, RowRejection>
    {
        var settings = settings(step.message)
        settings.maxSegments = rule.maxSegments
        settings.quietHours = nil  // decided with the order's deadline
        var planner = Planner(settings: settings, zones: zones)
        var values = due.order.fields
        values["buyer_phone"] = due.order.phone
        values["phone"] = phone
        return planner.plan(RecipientRow(line: due.timer.id, values: TemplateValues(values)), now: now)
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

/// The last day each birthday rule passed, by rule; nil once the store said it never did.
private final class PassedDays: Sendable {
    let days = Mutex<[String: Int64?]>([:])
}
