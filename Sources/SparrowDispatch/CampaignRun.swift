import Foundation
public import CoreMetrics
public import Logging
import ServiceLifecycle
public import SparrowCore
public import SparrowPostgres
public import SparrowStore
import Synchronization

/// `sparrow send` and `sparrow resume`: reads and decides the recipients, journals every row before anything is
/// sent, and submits the messages due through the carriers' throttles and the gateways; then, from the journal,
/// what an earlier run left unfinished and the deferred messages as they come due.
///
/// Every message has a deterministic id, so reading the same input again journals nothing twice and submits only
/// what is still unanswered; a message that was in flight when a run stopped is sent again under the same
/// idempotency key to a gateway that honours it, and otherwise recorded as `unknown` for receipts to settle. A
/// message that ended `unknown` on a gateway that honours keys (every attempt allowed failed, one of them after the
/// request left) is sent again under its key once per run, after the input, which settles it.
public struct CampaignRun: Sendable {
    public struct Options: Sendable {
        public var campaign: String
        /// The message template's source, recorded with the campaign.
        public var template: String
        /// Wait for deferred messages to come due, instead of leaving them to `resume`.
        public var waitForDeferred: Bool
        /// Messages in flight at once over all gateways.
        public var window: Int
        /// The share of recipients held out, for a new campaign; a resumed one keeps the share it began with.
        public var holdout: Double
        /// The approved template the campaign sends, by name, recorded with it; nil for free text.
        public var approved: String?
        /// The most segments a message may take, recorded with a new campaign; nil for no limit.
        public var maxSegments: Int?
        /// For a campaign that workers share (its store claims messages for this run): how often to look for what
        /// is due. The run then journals its input beside sending as one of the workers, which take their share of
        /// it meanwhile. Nil when the run has the campaign to itself.
        public var sharedPolling: Duration?

        public init(
            campaign: String, template: String, waitForDeferred: Bool, window: Int, holdout: Double = 0,
            approved: String? = nil, maxSegments: Int? = nil, sharedPolling: Duration? = nil
        ) {
            self.sharedPolling = sharedPolling
            self.maxSegments = maxSegments
            self.approved = approved
            self.campaign = campaign
            self.template = template
            self.waitForDeferred = waitForDeferred
            self.window = window
            self.holdout = holdout
        }
    }

    /// How a run ended.
    public struct Outcome: Sendable, Hashable {
        /// Stopped by a graceful shutdown before it finished.
        public var stopped = false
        /// Whether the campaign's input has been read to its end, in this run or an earlier one.
        public var inputComplete = false
        /// Messages found in flight from an earlier run: sent again under the same key, or recorded as unknown.
        public var inFlightResent = 0
        public var inFlightUnknown = 0
        /// Messages that had ended `unknown` on a gateway honouring keys, sent again under their keys.
        public var unknownResent = 0
        /// The next deferred message's release, when some wait.
        public var nextRelease: Timestamp?
        /// What the providers' status queries settled before the journal's messages were sent.
        public var settlement: StatusSettler.Outcome?
    }

    public let options: Options
    public let store: any CampaignStore
    public let client: GatewayClient
    /// Gateways honouring idempotency keys: their in-flight messages may be sent again.
    public let idempotentGateways: Set<String>
    public let carriers: [Carrier]
    public let clock: CampaignClock
    public let progress: SendProgress
    /// The run's logger, with the campaign's id as `campaign.id`.
    public let logger: Logger
    /// Asks the providers what became of messages in doubt before the journal's messages are sent (`resume`).
    public let settler: StatusSettler?
    /// One for the whole run, so that the carriers' buckets carry over from the input to the journal's messages.
    private let engine: SubmitEngine

    public init(
        options: Options, store: any CampaignStore, client: GatewayClient, idempotentGateways: Set<String>,
        carriers: [Carrier], quietHours: QuietHoursCheck?, clock: CampaignClock,
        progress: SendProgress = SendProgress(), settler: StatusSettler? = nil,
        logger: Logger = Logger(label: "sparrow"), metrics: any MetricsFactory = MetricsSystem.factory,
        templates: [String: ApprovedTemplate] = [:], sharedRates: SharedRates? = nil
    ) {
        self.settler = settler
        self.options = options
        self.store = store
        self.client = client
        self.idempotentGateways = idempotentGateways
        self.carriers = carriers
        self.clock = clock
        self.progress = progress
        var logger = logger
        logger[metadataKey: "campaign.id"] = "\(options.campaign)"
        self.logger = logger
        engine = SubmitEngine(
            store: store, client: client, carriers: carriers, window: options.window, clock: clock,
            quietHours: quietHours, progress: progress, logger: logger, metrics: metrics, templates: templates,
            sharedRates: sharedRates)
    }

    /// Runs the campaign: the rows `reader` decides from `input` when given, then the journal's unfinished
    /// messages, then (when waiting) the deferred ones as they come due.
    ///
    /// A graceful shutdown (the service group's, on a first Ctrl-C or SIGTERM) stops it gently: nothing more is
    /// read or sent, the requests in flight are answered and recorded, and it returns with `stopped` set.
    /// Cancelling its task stops it at once, which the journal also survives.
    /// - Throws: what reading or the store throws; the journal stays consistent, and `resume` finishes.
    public func run(reading input: (reader: PlanRun, descriptor: Int32)?) async throws -> Outcome {
        do {
            let outcome = try await runPhases(reading: input)
            logger.info(
                outcome.stopped ? "the campaign's run stopped" : "the campaign's run ended",
                metadata: [
                    "input.complete": "\(outcome.inputComplete)", "in_flight.resent": "\(outcome.inFlightResent)",
                    "in_flight.unknown": "\(outcome.inFlightUnknown)", "unknown.resent": "\(outcome.unknownResent)",
                    "next_release": "\(outcome.nextRelease.map(String.init(describing:)) ?? "none")",
                ])
            return outcome
        } catch {
            logger.error("the campaign's run failed", metadata: ["error": "\(error)"])
            throw error
        }
    }

    private func runPhases(reading input: (reader: PlanRun, descriptor: Int32)?) async throws -> Outcome {
        let campaign = options.campaign
        logger.info("the campaign's run began", metadata: ["input": input == nil ? "none" : "recipients"])
        try await store.beginCampaign(
            id: campaign, template: options.template, holdout: options.holdout, approved: options.approved,
            maxSegments: options.maxSegments, at: clock.now())
        let record = try await store.campaign(id: campaign)
        let rules = JournalRules(
            holdout: Holdout(share: record?.holdout ?? 0, campaign: campaign), cut: record?.ranking?.cut)
        var outcome = Outcome()
        if let interval = options.sharedPolling {
            return try await runShared(reading: input, rules: rules, polling: interval)
        }
        if let input,
            let read = try await engine.submit({
                try await stream(input.reader, descriptor: input.descriptor, rules: rules, into: $0)
            }),
            let lines = read
        {
            try await store.finishInput(campaign: campaign, lines: lines)
        }
        let reopened = try await settleAndReopen(&outcome)
        try await finishJournaled(&outcome, reopened: reopened)
        while options.waitForDeferred, !Task.isShuttingDownGracefully,
            let next = try await store.nextRelease(campaign: campaign)
        {
            guard try await untilGracefulShutdown({ try await clock.sleep(until: next) }) != nil else { break }
            try await finishJournaled(&outcome, reopened: reopened)
        }
        outcome.stopped = Task.isShuttingDownGracefully
        outcome.inputComplete = try await store.campaign(id: campaign)?.inputLines != nil
        outcome.nextRelease = try await store.nextRelease(campaign: campaign)
        return outcome
    }

    /// Runs as one of the workers that share the campaign (its store claims messages for this one): sends what is
    /// due as any process journals it, until the input has been read through and nothing due is left unanswered,
    /// whichever worker held it, so that a dead worker's messages are taken over once its lease runs out; with
    /// `waitForDeferred`, until nothing is deferred either. It looks for more every `interval` meanwhile. The campaign
    /// must exist; a graceful shutdown stops it as it stops `run`.
    public func work(polling interval: Duration) async throws -> Outcome {
        logger.info("the campaign's worker began")
        var outcome = Outcome()
        let campaign = options.campaign
        try await work(&outcome, polling: interval) { try await store.campaign(id: campaign)?.inputLines != nil }
        logger.info(
            outcome.stopped ? "the campaign's worker stopped" : "the campaign's worker ended",
            metadata: [
                "in_flight.resent": "\(outcome.inFlightResent)", "in_flight.unknown": "\(outcome.inFlightUnknown)",
            ])
        return outcome
    }

    /// The sender of a shared campaign: settles and opens again what is in doubt as `run` does, then journals the
    /// input while it works as one of the workers, until the input is journaled (or was never given) and nothing
    /// due is left unanswered.
    private func runShared(
        reading input: (reader: PlanRun, descriptor: Int32)?, rules: JournalRules, polling interval: Duration
    ) async throws -> Outcome {
        let campaign = options.campaign
        var outcome = Outcome()
        _ = try await settleAndReopen(&outcome)
        let journaled = Journaled(input == nil)
        let worked = try await withThrowingTaskGroup(of: Outcome?.self) { group in
            if let input {
                group.addTask {
                    defer { journaled.done.store(true, ordering: .releasing) }
                    do {
                        if let lines = try await stream(
                            input.reader, descriptor: input.descriptor, rules: rules, into: nil)
                        {
                            try await store.finishInput(campaign: campaign, lines: lines)
                        }
                    } catch {
                        // Thrown to the sending side when it next looks at the journal: it stops claiming, and its
                        // requests in flight are answered and recorded before the error comes out.
                        journaled.failure.withLock { $0 = error }
                    }
                    return nil
                }
            }
            group.addTask { [outcome] in
                var outcome = outcome
                try await work(&outcome, polling: interval) { try journaled.finished() }
                return outcome
            }
            var worked: Outcome?
            for try await outcome in group where outcome != nil { worked = outcome }
            return worked!
        }
        return worked
    }

    /// Asks the providers' status queries what became of the messages in doubt (with a settler), then opens the
    /// `unknown` ones on gateways that honour keys again, to be sent under their keys; nothing once a graceful
    /// shutdown has begun.
    /// - Returns: the messages opened again.
    private func settleAndReopen(_ outcome: inout Outcome) async throws -> Set<String> {
        if let settler, !Task.isShuttingDownGracefully {
            outcome.settlement = try await settler.settle(campaign: options.campaign)
        }
        guard !Task.isShuttingDownGracefully else { return [] }
        let reopened = try await store.reopenUnknown(campaign: options.campaign, gateways: idempotentGateways)
        outcome.unknownResent = reopened.count
        return reopened
    }

    /// Claims and sends what is due, `2 × window` at a time, until `inputRead` and nothing due is left unanswered
    /// (nor deferred, with `waitForDeferred`), looking again every `interval` meanwhile.
    private func work(
        _ outcome: inout Outcome, polling interval: Duration, inputRead: @escaping @Sendable () async throws -> Bool
    ) async throws {
        let campaign = options.campaign
        while !Task.isShuttingDownGracefully {
            try await finishJournaled(
                &outcome, reopened: [], page: 2 * options.window,
                following: (interval, { try await !inputRead() }))
            let monotonic = clock.monotonic
            var wake: @Sendable () async throws -> Void = { try await monotonic.sleep(for: interval) }
            if try await inputRead(), try await store.unansweredDue(campaign: campaign, dueBy: clock.now()) == 0 {
                guard options.waitForDeferred, let next = try await store.nextRelease(campaign: campaign) else { break }
                wake = { [clock] in try await clock.sleep(until: next) }
            }
            guard try await untilGracefulShutdown(wake) != nil else { break }
        }
        outcome.stopped = Task.isShuttingDownGracefully
        outcome.inputComplete = try await store.campaign(id: campaign)?.inputLines != nil
        outcome.nextRelease = try await store.nextRelease(campaign: campaign)
    }

    /// Reads, decides and journals the input, putting the ready messages into `ready` as their batches are
    /// journaled (none without it: workers claim them).
    /// - Returns: the input's last line when it was read to its end.
    private func stream(
        _ reader: PlanRun, descriptor: Int32, rules: JournalRules, into ready: BoundedQueue<[JournalEntry]>?
    ) async throws
        -> Int?
    {
        let decided = BoundedQueue<[DecidedRow]>(capacity: 4)
        defer { decided.close() }  // a reader waiting to hand over rows gives up
        let progress = progress
        let reading = Task.detached {
            try await runOnOwnThread {
                defer { decided.close() }
                // The journal finds duplicates (`CampaignStore.journal`).
                let onRead: @Sendable (Int) -> Void = { progress.read(bytes: $0) }
                return try reader.run(input: descriptor, findingDuplicates: false, onRead: onRead) { rows in
                    guard decided.putBlocking(rows) else { throw StoppedReading() }
                }
            }
        }
        var lastLine = 0
        // Cancelled, this ends even while the input is idle (a pipe whose writer waits); the reading thread may
        // then be blocked in read(2), and ends with the process.
        for try await rows in decided {
            let (entries, skipped) = journalBatch(rows, rules: rules)
            let states = try await store.journal(campaign: options.campaign, messages: entries, skipped: skipped)
            lastLine = max(lastLine, rows.last.map(\.line) ?? 0)
            guard let ready else {
                progress.decided(rows: rows.count, toSend: 0)  // counted when claimed
                if Task.isShuttingDownGracefully { return nil }
                continue
            }
            // Usually all of them: then the batch itself, not a copy of each entry.
            let due =
                states.allSatisfy { $0 == .ready }
                ? entries : zip(entries, states).compactMap { $1 == .ready ? $0 : nil }
            progress.decided(rows: rows.count, toSend: due.count)
            if !due.isEmpty, try await !ready.put(due) { return nil }
        }
        switch await reading.result {
        case .success: return lastLine
        case .failure(let error) where error is StoppedReading: return nil
        case .failure(let error): throw error
        }
    }

    /// Submits the journal's unfinished messages that are due, in line order, `page` at a time. `reopened` are the
    /// messages opened again from `unknown`, which are not counted as found in flight.
    ///
    /// While `journal.writing` says another task or process is still journaling the campaign's input, a page that
    /// comes back empty is asked for again after `journal.interval`, from where it was: the requests in flight go on
    /// meanwhile, and the journal is read once.
    private func finishJournaled(
        _ outcome: inout Outcome, reopened: Set<String>, page: Int = 1024,
        following journal: (interval: Duration, writing: @Sendable () async throws -> Bool)? = nil
    ) async throws {
        guard !Task.isShuttingDownGracefully else { return }
        // Counted as they are found, so that a graceful shutdown partway keeps what was found before it.
        let found = Lock((resent: 0, unknown: 0))
        _ = try await engine.submit { ready in
            var after = 0
            while true {
                let page = try await store.unfinished(
                    campaign: options.campaign, dueBy: clock.now(), afterLine: after, limit: page)
                guard let last = page.last else {
                    guard let journal, try await journal.writing() else { break }
                    let monotonic = clock.monotonic
                    guard try await untilGracefulShutdown({ try await monotonic.sleep(for: journal.interval) }) != nil
                    else { break }
                    continue
                }
                after = last.line
                var due: [JournalEntry] = []
                var unknownOrFailed: [SubmitRecord] = []
                for entry in page {
                    guard client.isConfigured(entry.gateway) else {
                        unknownOrFailed.append(
                            unsent(
                                entry, entry.state == .submitting ? .unknown : .failed,
                                "gateway '\(entry.gateway)' is no longer configured"))
                        continue
                    }
                    guard entry.state == .submitting else {
                        due.append(entry)
                        continue
                    }
                    if idempotentGateways.contains(entry.gateway) {
                        if !reopened.contains(entry.id) { found.withLock { $0.resent += 1 } }
                        due.append(entry)
                    } else {
                        found.withLock { $0.unknown += 1 }
                        unknownOrFailed.append(unsent(entry, .unknown, "in flight when an earlier run stopped"))
                    }
                }
                // A number unsubscribed since its message was decided (a deferred one, a resumed run) gets nothing;
                // a message that may be in flight already goes on as such.
                let unsubscribed = try await store.suppressed(
                    among: due.filter { $0.state != .submitting }.map { PhoneNumber.value(ofE164: $0.to) })
                if !unsubscribed.isEmpty {
                    due.removeAll { entry in
                        guard entry.state != .submitting, unsubscribed.contains(PhoneNumber.value(ofE164: entry.to))
                        else { return false }
                        unknownOrFailed.append(unsent(entry, .failed, "unsubscribed after it was decided"))
                        return true
                    }
                }
                if !unknownOrFailed.isEmpty { try await store.record(unknownOrFailed) }
                progress.decided(rows: 0, toSend: due.count)
                if !due.isEmpty, try await !ready.put(due) { break }
            }
        }
        let (resent, unknown) = found.withLock { $0 }
        outcome.inFlightResent += resent
        outcome.inFlightUnknown += unknown
    }

    /// The record of a message settled without a request in this run.
    private func unsent(_ entry: JournalEntry, _ state: MessageState, _ reason: String) -> SubmitRecord {
        SubmitRecord(
            id: entry.id, campaign: entry.campaign, recipient: entry.to, state: state, gateway: entry.gateway,
            gatewayMessageID: nil, attempts: 0, latency: nil, error: reason, at: clock.now())
    }

    /// What turns a message into a skipped row before it is journaled.
    struct JournalRules {
        var holdout: Holdout
        /// The campaign's value cut; nil when it admits every message.
        var cut: ValueCut?
    }

    /// The journal's view of a batch of decided rows: a message to a held-out number, or below the value cut,
    /// becomes a skipped row.
    private func journalBatch(_ rows: [DecidedRow], rules: JournalRules) -> ([JournalEntry], [SkippedRow]) {
        var entries: [JournalEntry] = []
        var skipped: [SkippedRow] = []
        for row in rows {
            switch row {
            case .message(let message, let status)
            where (status == .ready || status == .deferred) && rules.holdout.holds(message.number.e164):
                skipped.append(
                    SkippedRow(
                        line: message.line, status: .heldOut, carrier: message.carrier, gateway: message.gateway,
                        recipient: message.number.e164, sendAt: message.sendAt))
            case .message(let message, let status)
            where (status == .ready || status == .deferred)
                && rules.cut.map({ !$0.admits(value: message.value, line: message.line) }) == true:
                skipped.append(
                    SkippedRow(
                        line: message.line, status: .overBudget, carrier: message.carrier, gateway: message.gateway))
            case .message(let message, let status) where status == .ready || status == .deferred:
                entries.append(
                    JournalEntry(
                        id: MessageID.make(campaign: options.campaign, line: message.line, e164: message.number.e164),
                        campaign: options.campaign, line: message.line, to: message.number.e164,
                        carrier: message.carrier, gateway: message.gateway, text: message.text,
                        segments: message.segments.segments, throttleUnits: message.throttleUnits, cost: message.cost,
                        sendAt: message.sendAt, state: status == .ready ? .ready : .deferred,
                        timeZone: message.timeZone,
                        parameters: message.parameters))
            case .message(let message, let status):
                skipped.append(
                    SkippedRow(line: message.line, status: status, carrier: message.carrier, gateway: message.gateway))
            case .rejected(let rejection):
                skipped.append(SkippedRow(line: rejection.line, status: .rejected, reason: rejection.reason.code))
            }
        }
        return (entries, skipped)
    }
}

/// Whether a shared campaign's sender has journaled its input, or what stopped it.
private final class Journaled: Sendable {
    let done: Atomic<Bool>
    let failure = Mutex<(any Error)?>(nil)

    init(_ done: Bool) {
        self.done = Atomic(done)
    }

    /// Whether the input is journaled (or never will be by this run).
    /// - Throws: what stopped its journaling.
    func finished() throws -> Bool {
        if let failure = failure.withLock({ $0 }) { throw failure }
        return done.load(ordering: .acquiring)
    }
}

/// Thrown into the reader when the campaign stops taking rows.
struct StoppedReading: Error {}

extension DecidedRow {
    var line: Int {
        switch self {
        case .message(let message, _): message.line
        case .rejected(let rejection): rejection.line
        }
    }
}
