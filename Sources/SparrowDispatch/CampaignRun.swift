import Dispatch
import Foundation
public import SparrowCore
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

        public init(campaign: String, template: String, waitForDeferred: Bool, window: Int) {
            self.campaign = campaign
            self.template = template
            self.waitForDeferred = waitForDeferred
            self.window = window
        }
    }

    /// How a run ended.
    public struct Outcome: Sendable, Hashable {
        /// Stopped by a signal (or a store failure) before it finished.
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
    }

    public let options: Options
    public let store: any CampaignStore
    public let client: GatewayClient
    /// Gateways honouring idempotency keys: their in-flight messages may be sent again.
    public let idempotentGateways: Set<String>
    public let carriers: [Carrier]
    public let clock: CampaignClock
    public let progress: SendProgress
    public let stop: StopSignal
    /// One for the whole run, so that the carriers' buckets carry over from the input to the journal's messages.
    private let engine: SubmitEngine

    public init(
        options: Options, store: any CampaignStore, client: GatewayClient, idempotentGateways: Set<String>,
        carriers: [Carrier], quietHours: QuietHoursCheck?, clock: CampaignClock, progress: SendProgress = SendProgress(),
        stop: StopSignal = StopSignal()
    ) {
        self.options = options
        self.store = store
        self.client = client
        self.idempotentGateways = idempotentGateways
        self.carriers = carriers
        self.clock = clock
        self.progress = progress
        self.stop = stop
        engine = SubmitEngine(
            store: store, client: client, carriers: carriers, window: options.window, clock: clock,
            quietHours: quietHours, progress: progress, stop: stop)
    }

    /// Runs the campaign: the rows `reader` decides from `input` when given, then the journal's unfinished
    /// messages, then (when waiting) the deferred ones as they come due.
    /// - Throws: what reading or the store throws; the journal stays consistent, and `resume` finishes.
    public func run(reading input: (reader: PlanRun, descriptor: Int32)?) async throws -> Outcome {
        let campaign = options.campaign
        try await store.beginCampaign(id: campaign, template: options.template, at: clock.now())
        var outcome = Outcome()
        if let input {
            let lines = try await stream(input.reader, descriptor: input.descriptor)
            if let lines, !stop.isSet { try await store.finishInput(campaign: campaign, lines: lines) }
        }
        let reopened =
            stop.isSet ? [] : try await store.reopenUnknown(campaign: campaign, gateways: idempotentGateways)
        outcome.unknownResent = reopened.count
        try await finishJournaled(&outcome, reopened: reopened)
        while options.waitForDeferred, !stop.isSet, let next = try await store.nextRelease(campaign: campaign) {
            try await sleep(until: next)
            try await finishJournaled(&outcome, reopened: reopened)
        }
        outcome.stopped = stop.isSet
        outcome.inputComplete = try await store.campaign(id: campaign)?.inputLines != nil
        outcome.nextRelease = try await store.nextRelease(campaign: campaign)
        return outcome
    }

    /// Reads, decides and journals the input, submitting the ready messages as their batches are journaled.
    /// - Returns: the input's last line when it was read to its end.
    private func stream(_ reader: PlanRun, descriptor: Int32) async throws -> Int? {
        let decided = BoundedQueue<[DecidedRow]>(capacity: 4)
        defer { decided.close() }  // a reader waiting to hand over rows gives up
        let progress = progress
        let reading = Task.detached {
            try await runOnOwnThread {
                defer { decided.close() }
                // The journal finds duplicates (`CampaignStore.journal`).
                let onRead: @Sendable (Int) -> Void = { progress.read(bytes: $0) }
                return try reader.run(input: descriptor, findingDuplicates: false, onRead: onRead) { rows in
                    guard Self.blockingPut(rows, into: decided) else { throw StoppedReading() }
                }
            }
        }
        // A stop ends the reading even while the input is idle (a pipe whose writer waits).
        let stopWatch = Task { [stop] in
            while !stop.isSet, (try? await Task.sleep(for: .milliseconds(100))) != nil {}
            if stop.isSet { decided.close() }
        }
        defer { stopWatch.cancel() }
        var lastLine = 0
        try await feedingEngine { ready in
            for await rows in decided {
                if stop.isSet { break }
                let (entries, skipped) = journalBatch(rows)
                let states = try await store.journal(campaign: options.campaign, messages: entries, skipped: skipped)
                let due = zip(entries, states).filter { $0.1 == .ready }.map(\.0)
                progress.decided(rows: rows.count, toSend: due.count)
                lastLine = max(lastLine, rows.last.map(\.line) ?? 0)
                if !due.isEmpty, await !ready.put(due) { break }
            }
        }
        if stop.isSet { return nil }  // the reading thread may be blocked in read(2); it ends with the process
        switch await reading.result {
        case .success: return lastLine
        case .failure(let error) where error is StoppedReading: return nil
        case .failure(let error): throw error
        }
    }

    /// Submits the journal's unfinished messages that are due, in line order, a page at a time. `reopened` are the
    /// messages opened again from `unknown`, which are not counted as found in flight.
    private func finishJournaled(_ outcome: inout Outcome, reopened: Set<String>) async throws {
        try await feedingEngine { ready in
            var after = 0
            while !stop.isSet {
                let page = try await store.unfinished(
                    campaign: options.campaign, dueBy: clock.now(), afterLine: after, limit: 1024)
                guard let last = page.last else { break }
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
                        if !reopened.contains(entry.id) { outcome.inFlightResent += 1 }
                        due.append(entry)
                    } else {
                        outcome.inFlightUnknown += 1
                        unknownOrFailed.append(unsent(entry, .unknown, "in flight when an earlier run stopped"))
                    }
                }
                if !unknownOrFailed.isEmpty { try await store.record(unknownOrFailed) }
                progress.decided(rows: 0, toSend: due.count)
                if !due.isEmpty, await !ready.put(due) { break }
            }
        }
    }

    /// Runs `feed`, which puts batches of messages into the engine while it submits them, and returns when all
    /// are answered and recorded. On an error the campaign stops: what the engine took is finished first.
    private func feedingEngine(_ feed: (BoundedQueue<[JournalEntry]>) async throws -> Void) async throws {
        let ready = BoundedQueue<[JournalEntry]>(capacity: 4)
        async let submitted: Void = engine.submit(ready)
        do {
            try await feed(ready)
        } catch {
            stop.set()
            ready.close()
            try? await submitted
            throw error
        }
        ready.close()
        try await submitted
    }

    /// The record of a message settled without a request in this run.
    private func unsent(_ entry: JournalEntry, _ state: MessageState, _ reason: String) -> SubmitRecord {
        SubmitRecord(
            id: entry.id, campaign: entry.campaign, recipient: entry.to, state: state, gateway: entry.gateway,
            gatewayMessageID: nil, attempts: 0, latency: nil, error: reason, at: clock.now())
    }

    /// The journal's view of a batch of decided rows.
    private func journalBatch(_ rows: [DecidedRow]) -> ([JournalEntry], [SkippedRow]) {
        var entries: [JournalEntry] = []
        var skipped: [SkippedRow] = []
        for row in rows {
            switch row {
            case .message(let message, let status) where status == .ready || status == .deferred:
                entries.append(
                    JournalEntry(
                        id: MessageID.make(campaign: options.campaign, line: message.line, e164: message.number.e164),
                        campaign: options.campaign, line: message.line, to: message.number.e164,
                        carrier: message.carrier, gateway: message.gateway, text: message.text,
                        segments: message.segments.segments, throttleUnits: message.throttleUnits, cost: message.cost,
                        sendAt: message.sendAt, state: status == .ready ? .ready : .deferred, timeZone: message.timeZone))
            case .message(let message, let status):
                skipped.append(SkippedRow(line: message.line, status: status, carrier: message.carrier, gateway: message.gateway))
            case .rejected(let rejection):
                skipped.append(SkippedRow(line: rejection.line, status: .rejected, reason: rejection.reason.code))
            }
        }
        return (entries, skipped)
    }

    /// Sleeps until `instant` on the campaign clock, waking early for the stop signal.
    private func sleep(until instant: Timestamp) async throws {
        while !stop.isSet, clock.now() < instant {
            try await Task.sleep(for: min(clock.duration(until: instant), .milliseconds(250)))
        }
    }

    /// Puts `element` into `queue` from a thread that may block.
    private static func blockingPut<Element: Sendable>(_ element: Element, into queue: BoundedQueue<Element>) -> Bool {
        let done = DispatchSemaphore(value: 0)
        let accepted = Mutex(false)
        Task {
            let result = await queue.put(element)
            accepted.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return accepted.withLock { $0 }
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
