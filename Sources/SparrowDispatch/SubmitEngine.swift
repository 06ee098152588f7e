import CoreMetrics
import DequeModule
import Logging
public import SparrowCore
import SparrowPostgres
import SparrowStore
import Synchronization

/// Submits journaled messages: a lane per carrier holds the carrier to its rate, a window bounds the requests in
/// flight over all lanes, each message is marked as submitting (durably, in batches) just before its request
/// goes, and the answers are recorded in batched transactions.
final class SubmitEngine: Sendable {
    private let store: any CampaignStore
    private let client: GatewayClient
    /// The carriers with a rate; the others' lanes are not held.
    private let throttles: [String: CarrierThrottle]
    private let window: AsyncPermits
    private let clock: CampaignClock
    private let progress: SendProgress
    private let quietHours: QuietHoursCheck?
    private let logger: Logger
    /// The approved template each campaign sends, when it is not the client's own (a flow's rule names its own).
    private let templates: [String: ApprovedTemplate]

    init(
        store: any CampaignStore, client: GatewayClient, carriers: [Carrier], window: Int, clock: CampaignClock,
        quietHours: QuietHoursCheck?, progress: SendProgress, logger: Logger, metrics: any MetricsFactory,
        templates: [String: ApprovedTemplate] = [:], sharedRates: SharedRates? = nil
    ) {
        self.templates = templates
        self.logger = logger
        self.quietHours = quietHours
        self.store = store
        self.client = client
        throttles = Dictionary(
            uniqueKeysWithValues: carriers.compactMap { carrier in
                carrier.rate.map { rate in
                    let waited = FloatingPointCounter(
                        label: "sparrow_throttle_wait_seconds_total", dimensions: [("carrier", carrier.id)],
                        factory: metrics)
                    guard let sharedRates else {
                        return (
                            carrier.id,
                            CarrierThrottle(
                                rate: rate, burst: carrier.admittedBurst, clock: clock.monotonic, waited: waited)
                        )
                    }
                    let shared = SharedRate(rate: rate, burst: carrier.admittedBurst)
                    let leaser = SharedRateLeaser(rate: shared) { wanted, minimum in
                        try await sharedRates.lease(
                            wanted, minimum: minimum, of: carrier.id, at: shared, horizon: Self.leaseAhead)
                    }
                    return (
                        carrier.id,
                        CarrierThrottle(
                            sharing: leaser, clock: clock.monotonic, waited: waited,
                            counters: SharedRateCounters(carrier: carrier.id, factory: metrics))
                    )
                }
            })
        self.window = AsyncPermits(window)
        self.clock = clock
        self.progress = progress
    }

    /// Runs `feed`, which puts batches of journaled messages into the queue it is given, while the carriers' lanes
    /// submit them; returns once every message sent has been answered and its answer recorded.
    ///
    /// A graceful shutdown, or an error of `feed` or of a lane (a store failure), cancels the feeding and the lanes:
    /// nothing more is sent, and the requests already sent are answered and recorded before this returns (or
    /// throws the error). Cancelling the calling task stops everything at once; the answers not yet recorded are
    /// lost, which the journal survives: their messages are still marked as submitting.
    /// - Returns: what `feed` returned; nil when a graceful shutdown stopped it.
    func submit<Fed: Sendable>(
        _ feed: @escaping @Sendable (BoundedQueue<[JournalEntry]>) async throws -> Fed
    ) async throws -> Fed? {
        let recorder = SubmitRecorder(store: store, clock: clock.monotonic, logger: logger)
        return try await withThrowingTaskGroup(of: Fed??.self) { group in
            group.addTask {
                try await recorder.run()
                return nil
            }
            group.addTask {
                let fed: Result<Fed?, any Error>
                do {
                    fed = .success(try await untilGracefulShutdown { try await self.feeding(feed, recorder: recorder) })
                } catch {
                    fed = .failure(error)
                }
                try await self.window.acquire(self.window.limit)  // every request sent has been answered
                self.window.release(self.window.limit)
                recorder.close()
                return .some(try fed.get())
            }
            // Both run to their end, whatever the other does: the recorder writes every answer of the drained window.
            var fed: Fed?
            var failure: (any Error)?
            while let finished = await group.nextResult() {
                switch finished {
                case .success(let value): if let value { fed = value }
                case .failure(let error): failure = failure ?? error
                }
            }
            if let failure = failure ?? recorder.failure { throw failure }
            return fed
        }
    }

    /// Runs `feed` and the lanes it feeds until both have ended. An error of either, or of the recorder, cancels
    /// the others: nothing more is sent once its answer could not be recorded.
    private func feeding<Fed: Sendable>(
        _ feed: @escaping @Sendable (BoundedQueue<[JournalEntry]>) async throws -> Fed, recorder: SubmitRecorder
    ) async throws -> Fed {
        let ready = BoundedQueue<[JournalEntry]>(capacity: 4)
        return try await withThrowingTaskGroup(of: Fed?.self) { group in
            group.addTask {
                defer { ready.close() }  // a feed never waits on lanes that have ended
                try await self.runLanes(ready, recorder: recorder)
                return nil
            }
            group.addTask {
                defer { ready.close() }
                return try await feed(ready)
            }
            group.addTask {
                try await recorder.watchForFailure()
                return nil
            }
            var fed: Fed?
            for _ in 0..<2 {  // the lanes and the feed; the watcher ends only by throwing, or when cancelled below
                if let value = try await group.next(), let value { fed = value }
            }
            group.cancelAll()
            guard let fed else { throw CancellationError() }  // only a cancelled watcher can have ended before it
            return fed
        }
    }

    /// Hands each batch's messages to their carrier's lane, and returns when every lane has finished.
    private func runLanes(_ batches: BoundedQueue<[JournalEntry]>, recorder: SubmitRecorder) async throws {
        try await withThrowingTaskGroup(of: Void.self) { lanes in
            var queues: [String: BoundedQueue<[JournalEntry]>] = [:]
            for try await batch in batches {
                // Grouping keeps each carrier's messages in line order.
                for (carrier, entries) in Dictionary(grouping: batch, by: { $0.carrier ?? "" }) {
                    if queues[carrier] == nil {
                        let queue = BoundedQueue<[JournalEntry]>(capacity: 4)
                        queues[carrier] = queue
                        let throttle = throttles[carrier]
                        lanes.addTask { try await self.runLane(queue, throttle: throttle, recorder: recorder) }
                    }
                    try await queues[carrier]!.put(entries)
                }
            }
            for queue in queues.values { queue.close() }
            try await lanes.waitForAll()
        }
    }

    /// How far ahead a lane leases units of a shared rate: a tenth of a second of its carrier's rate (and its burst) at
    /// most, so that a worker's death wastes little of it. A lane asks the database when its units run out: about once
    /// a group, and once a tenth of a second at most while its carrier's rate is what holds it back.
    static let leaseAhead = Duration.milliseconds(100)

    /// Sends one carrier's messages in order, as fast as its throttle and the window allow. Each message is routed
    /// first (a message already in flight in an earlier run keeps its gateway), then journaled as submitting to
    /// that gateway, then sent as the window frees up: each request starts from the answer that freed its permit,
    /// on the transport's thread, the way a C client's loop does, while the lane journals the next group. A lane
    /// waits for a group's last request to start before it hands over the next, so at most two groups per lane are
    /// journaled as submitting before their requests go. A store failure stops the campaign: the requests already
    /// sent finish and are recorded, nothing more goes, and the error is thrown after them.
    ///
    /// A throttled lane holds each group's requests until `CarrierThrottle.hold` after the group's admission, so that
    /// they reach the gateway on the throttle's schedule: without it they would go whenever the group's mark was
    /// committed, and a slow commit followed by a quick one would bunch two groups' requests into one moment. The
    /// lane goes on admitting and marking meanwhile, so a throttled lane also has the groups of its last hold marked
    /// ahead.
    ///
    /// A message marked as submitting that a crash kept from going is sent again under its key after the crash
    /// when its gateway honours keys, and is recorded as unknown otherwise. So groups are at most the window's size
    /// (and 256) in requests, and 256 messages when every gateway honours keys: then a lane marks its next group while
    /// many requests are still to go, and neither a slow commit nor a record batch ahead of it in the writer's queue
    /// leaves the window idle. A request to a gateway that batches carries up to its batch's size of messages, so a
    /// group holds that many times more, up to about 1,024 messages (whole batches, at least one): larger groups
    /// held more messages in memory for each lane and went out no faster (groups of 16 batches of 200 ran at 0.94×
    /// the rate of groups of 5, at 10 MiB more).
    private func runLane(
        _ queue: BoundedQueue<[JournalEntry]>, throttle: CarrierThrottle?, recorder: SubmitRecorder
    ) async throws {
        defer { queue.close() }
        var handed = HandedGroups()
        do {
            try await runLane(queue, throttle: throttle, recorder: recorder, handed: &handed)
        } catch {
            await handed.allHandedToTheWindow()
            throw error
        }
        await handed.allHandedToTheWindow()  // so that draining the window waits for their answers
    }

    private func runLane(
        _ queue: BoundedQueue<[JournalEntry]>, throttle: CarrierThrottle?, recorder: SubmitRecorder,
        handed: inout HandedGroups
    ) async throws {
        let requestsInGroup = min(window.limit, 256, max(1, 1_024 / client.largestBatch))
        let largestGroup = client.everyGatewayHonoursKeys ? 256 : requestsInGroup * client.largestBatch
        let hold = throttle == nil ? Duration.zero : CarrierThrottle.hold
        var rest = ArraySlice<JournalEntry>()
        var routedLater: [JournalEntry] = []  // admitted, and held back when their group was routed
        var admitted = Duration.zero  // when the group was admitted
        var open = true  // the queue may hand over more
        while true {
            try Task.checkCancellation()
            var group = routedLater
            if group.isEmpty {
                group = try await nextGroup(
                    from: queue, rest: &rest, open: &open, throttle: throttle, largest: largestGroup)
                guard !group.isEmpty else { break }
                admitted = clock.monotonic.now
            }
            try await postponeQuiet(&group)
            guard !group.isEmpty else { continue }
            // One call routes the group, or as much of it as can go now: the rest waits for the next turn (a probe
            // of a circuit that would take them may be among the messages routed).
            var routes = try await client.route(
                group.map { $0.state == .submitting ? .pinned($0.gateway) : .planned($0.gateway) })
            routedLater = Array(group[routes.count...])
            group.removeLast(routedLater.count)
            // While the previous group's requests are still out: the commit does not drain the window. A failure
            // or a cancellation here sends nothing of the group: nothing goes out unjournaled.
            let marked = try await store.markSubmitting(zip(group, routes).map { ($0.id, $1.gateway) })
            if case .only(let ids) = marked, ids.count < group.count {
                // Another worker holds the rest, or answered them: they are its to send.
                let kept = group.indices.filter { ids.contains(group[$0].id) }
                progress.leftToOthers(group.count - kept.count)
                (group, routes) = (kept.map { group[$0] }, kept.map { routes[$0] })
                guard !group.isEmpty else { continue }
            }
            // Once marked, the group goes even if the lane is cancelled now: a message marked as submitting that
            // never left would be taken for one in flight, and end unknown on a gateway that does not honour keys.
            var interruption: (any Error)?
            do {
                try await handed.started(dueBy: clock.monotonic.now)
            } catch {
                interruption = error
            }
            // All permits taken now; each request gives one back as it starts, so that the lane can wait above
            // for the whole group to have started before it hands over the next.
            let requests = requests(group, routes: routes)
            let started = AsyncPermits(requests.count)
            started.acquire(requests.count) {}
            let due = admitted + hold
            handed.append(due: due, started: started, hold: due > clock.monotonic.now ? clock.monotonic : nil) {
                for (route, entries) in requests {
                    self.window.acquire {
                        self.progress.started(messages: entries.count)
                        let messages = entries.map {
                            OutboundMessage(
                                id: $0.id, to: $0.to, text: $0.text, gateway: $0.gateway, parameters: $0.parameters,
                                template: self.template(of: $0))
                        }
                        self.client.submit(messages, via: route) { outcomes in
                            let at = self.clock.now()
                            recorder.add(
                                zip(entries, outcomes).lazy.map { SubmitRecord(entry: $0, outcome: $1, at: at) })
                            for outcome in outcomes { self.progress.count(outcome) }
                            // Last: once every permit is back, every answer is with the recorder.
                            self.window.release()
                        }
                        started.release()
                    }
                }
            }
            if let interruption { throw interruption }
        }
    }

    /// The lane's next group: as many messages from the front of `rest` as its throttle admits, up to `largest`,
    /// `rest` refilled from the queue; a group whose last batch would not be full waits a linger for the messages
    /// queued behind it, up to a whole group. Empty once the queue has closed and `rest` is spent.
    private func nextGroup(
        from queue: BoundedQueue<[JournalEntry]>, rest: inout ArraySlice<JournalEntry>, open: inout Bool,
        throttle: CarrierThrottle?, largest: Int
    ) async throws -> [JournalEntry] {
        while true {
            if rest.isEmpty {
                guard let entries = try await queue.next() else { return [] }
                rest = entries[...]
            }
            if open, rest.count < largest, let batch = client.batch(of: rest.first!.gateway),
                rest.count % batch.max != 0
            {
                switch try await next(of: queue, within: batch.linger) {
                case .item(let more):
                    rest = (Array(rest) + more)[...]
                    continue
                case .closed: open = false
                case .timedOut: break
                }
            }
            let admitted: Int
            if let throttle {
                // A batch of the planned gateway fills within its linger, as the tokens come.
                let batch = client.batch(of: rest.first!.gateway)
                admitted = try await throttle.admit(
                    rest.prefix(largest).map(\.throttleUnits), fill: batch?.max ?? 1, linger: batch?.linger ?? .zero)
            } else {
                admitted = min(rest.count, largest)
            }
            defer { rest = rest.dropFirst(admitted) }
            return Array(rest.prefix(admitted))
        }
    }

    /// The approved template `entry`'s campaign sends, when it names one of its own.
    private func template(of entry: JournalEntry) -> ApprovedTemplate? {
        templates.isEmpty ? nil : templates[entry.campaign]
    }

    /// What a lane waiting for more messages got.
    private enum Waited {
        case item([JournalEntry])
        case closed
        case timedOut
    }

    /// The queue's next item if it comes within `linger`. An item taken as the linger ends is never dropped: both
    /// waits end before this returns, and an item either of them got wins.
    private func next(of queue: BoundedQueue<[JournalEntry]>, within linger: Duration) async throws -> Waited {
        let monotonic = clock.monotonic
        let deadline = monotonic.now + linger
        let waited = await withTaskGroup(of: Waited?.self) { group in
            group.addTask { (try? await queue.next()).map { $0.map(Waited.item) ?? .closed } ?? nil }
            group.addTask { (try? await monotonic.sleep(until: deadline)).map { .timedOut } }
            var waited: Waited?
            while let result = await group.next() {
                group.cancelAll()  // the other wait ends too: a queue's cancelled wait takes nothing
                switch (waited, result) {
                case (_, .item?), (nil, _?), (.timedOut?, .closed?): waited = result
                default: break
                }
            }
            return waited
        }
        try Task.checkCancellation()
        return waited ?? .timedOut
    }

    /// The requests that carry `group`, in the order of their first messages: a message each, or batches of the
    /// messages that may share a request on a gateway that batches (one route, and one text when it groups by text).
    /// Each request's messages are a slice of one array: a message alone costs no array of its own.
    private func requests(
        _ group: [JournalEntry], routes: [GatewayClient.Route]
    ) -> [(route: GatewayClient.Route, entries: ArraySlice<JournalEntry>)] {
        guard routes.contains(where: { client.batch(of: $0.gateway) != nil }) else {
            return zip(group.indices, routes).map { index, route in (route, group[index...index]) }
        }
        struct Key: Hashable {
            var route: GatewayClient.Route
            var text: String?
            /// A batch goes under one template.
            var template: String?
        }
        var batches: [(route: GatewayClient.Route, members: [Int])] = []
        var filling: [Key: Int] = [:]  // the batches not yet full, by where they are in `batches`
        for (index, (entry, route)) in zip(group, routes).enumerated() {
            guard let batch = client.batch(of: route.gateway) else {
                batches.append((route, [index]))
                continue
            }
            let key = Key(
                route: route, text: batch.grouping == .anyText ? nil : entry.text, template: template(of: entry)?.name)
            let position = filling[key] ?? batches.count
            if position == batches.count { batches.append((route, [])) }
            batches[position].members.append(index)
            filling[key] = batches[position].members.count < batch.max ? position : nil
        }
        let ordered = batches.flatMap { $0.members.map { group[$0] } }
        var start = 0
        return batches.map { route, members in
            defer { start += members.count }
            return (route, ordered[start..<start + members.count])
        }
    }

    /// Takes out of `group` the messages whose recipients' quiet hours have begun since they were decided, and
    /// journals them as deferred to the window's end.
    private func postponeQuiet(_ group: inout [JournalEntry]) async throws {
        guard let quietHours else { return }
        let now = clock.now()
        var postponed: [(id: String, sendAt: Timestamp)] = []
        group.removeAll { entry in
            guard entry.state.rank == 0, let release = quietHours.release(at: now, zone: entry.timeZone) else {
                return false
            }
            postponed.append((entry.id, release))
            return true
        }
        if !postponed.isEmpty { try await store.postpone(postponed) }
    }
}

/// The groups a lane has handed over whose requests have not all started, oldest first: each is handed to the
/// window at once, or once its hold is over.
private struct HandedGroups {
    private var groups = Deque<(due: Duration, started: AsyncPermits, holding: Task<Void, Never>?)>()

    /// Hands a group over: `hand` hands its requests to the window, at once when `hold` is nil, otherwise once
    /// `due` has come on that clock. The hold is a task of its own, so that no cancellation cuts it short: a group
    /// marked as submitting goes, and on its schedule.
    /// - Parameter started: the group's permits, each given back as one of its requests starts.
    mutating func append(
        due: Duration, started: AsyncPermits, hold: RunClock?, hand: @escaping @Sendable () -> Void
    ) {
        let holding = hold.map { clock in
            Task {
                try? await clock.sleep(until: due)
                hand()
            }
        }
        if holding == nil { hand() }
        groups.append((due, started, holding))
    }

    /// Waits until every request of the groups due by `now` has started: so that a lane marks no more groups while
    /// the window is full, beyond those still held.
    /// - Throws: `CancellationError` when the task is cancelled first.
    mutating func started(dueBy now: Duration) async throws {
        while let first = groups.first, first.due <= now {
            try await first.started.acquire(first.started.limit)
            groups.removeFirst()
        }
    }

    /// Waits until every group held has been handed to the window.
    func allHandedToTheWindow() async {
        for group in groups { await group.holding?.value }
    }
}

/// Collects submit answers and writes them to the store in batched transactions, each of everything waiting: 20 ms
/// after a transaction of fewer than 512, at once after a larger one, and the rest when closed. A store failure ends
/// the writing: it is kept in `failure`, and thrown to `watchForFailure`.
final class SubmitRecorder: Sendable {
    private struct State {
        var pending: [SubmitRecord] = []
        var closed = false
        /// The writer, pausing between two batches until it is closed.
        var pausing: CheckedContinuation<Void, Never>?
        var failure: (any Error)?
        var watcher: CheckedContinuation<Void, any Error>?
    }

    private let store: any CampaignStore
    private let clock: RunClock
    private let logger: Logger
    private let state = Lock(State())
    private let batchSize = 512

    init(store: any CampaignStore, clock: RunClock, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    func add(_ records: some Sequence<SubmitRecord>) {
        state.withLock { $0.pending.append(contentsOf: records) }
    }

    func close() {
        let pausing = state.withLock { state in
            state.closed = true
            defer { state.pausing = nil }
            return state.pausing
        }
        pausing?.resume()
    }

    /// The store's error that ended the writing, if one did.
    var failure: (any Error)? { state.withLock { $0.failure } }

    /// Writes batches until closed, then writes what is left, or until the store fails.
    /// - Throws: `CancellationError` when the task is cancelled between two batches.
    func run() async throws {
        while true {
            // Everything waiting, in one transaction: swapped out, so that the transport's thread, which adds
            // answers under the same lock, never waits for a copy.
            let (batch, closed) = state.withLock { state in
                defer { state.pending = [] }
                return (state.pending, state.closed)
            }
            if !batch.isEmpty {
                do {
                    try await store.record(batch)
                } catch {
                    logger.error(
                        "answers could not be recorded: nothing more is sent", metadata: ["error": "\(error)"])
                    let watcher = state.withLock { state in
                        state.failure = error
                        defer { state.watcher = nil }
                        return state.watcher
                    }
                    watcher?.resume(throwing: error)
                    return
                }
            }
            if closed { return }
            if batch.count < batchSize { try await pause() }
        }
    }

    /// Waits 20 ms, or until closed.
    /// - Throws: `CancellationError` when the task is cancelled, whichever wait ended first.
    private func pause() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.clock.sleep(for: .milliseconds(20)) }
            group.addTask { await self.closing() }
            try await group.next()
            group.cancelAll()
        }
        try Task.checkCancellation()  // `closing` returns, not throws, when cancelled: it may have ended the wait
    }

    /// Returns once the recorder is closed, or the task cancelled.
    private func closing() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let wait = state.withLock { state in
                    guard !state.closed, !Task.isCancelled else { return false }
                    state.pausing = continuation
                    return true
                }
                if !wait { continuation.resume() }
            }
        } onCancel: {
            let pausing = state.withLock { state in
                defer { state.pausing = nil }
                return state.pausing
            }
            pausing?.resume()
        }
    }

    /// Waits until the store fails, and throws its error; returns when the task is cancelled first.
    func watchForFailure() async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let ended = state.withLock { state -> Result<Void, any Error>? in
                    if let failure = state.failure { return .failure(failure) }
                    if Task.isCancelled { return .success(()) }
                    state.watcher = continuation
                    return nil
                }
                if let ended { continuation.resume(with: ended) }
            }
        } onCancel: {
            let watcher = state.withLock { state in
                defer { state.watcher = nil }
                return state.watcher
            }
            watcher?.resume()
        }
    }
}

extension SubmitRecord {
    init(entry: JournalEntry, outcome: SubmitOutcome, at: Timestamp) {
        var (state, gatewayIDs, error): (MessageState, [String], String?) = (.accepted, [], nil)
        var sendAt: Timestamp?
        switch outcome.status {
        case .accepted(let ids): gatewayIDs = ids
        case .failed(let reason), .blacklisted(let reason): (state, error) = (.failed, reason)
        case .unknown(let reason): (state, error) = (.unknown, reason)
        case .deferred(let reason, let delay):
            (state, error) = (.deferred, reason)
            sendAt = at + Int64((delay / .seconds(1)).rounded(.up))
        }
        let suppress = if case .blacklisted = outcome.status { true } else { false }
        self.init(
            id: entry.id, campaign: entry.campaign, recipient: entry.to, state: state, gateway: outcome.gateway,
            gatewayMessageID: gatewayIDs.first, attempts: outcome.attempts, latency: outcome.latency, error: error,
            at: at, partIDs: gatewayIDs.count > 1 ? gatewayIDs : [], sendAt: sendAt, suppress: suppress)
    }
}

/// The campaign's clock: the wall clock, or `--now` advanced by the time elapsed on the run's monotonic clock; or,
/// for a replayed event log, the log's own time (`EventTime`).
public struct CampaignClock: Sendable {
    private let origin: Timestamp
    private let replayed: EventTime?
    /// The run's monotonic clock, which every wait of the run sleeps on.
    public let monotonic: RunClock

    public init(origin: Timestamp, monotonic: RunClock = .continuous) {
        self.origin = origin
        self.monotonic = monotonic
        replayed = nil
    }

    /// A clock that reads `time`, which a replay moves forward; waits still sleep on `monotonic`.
    public init(following time: EventTime, monotonic: RunClock = .continuous) {
        origin = time.now
        self.monotonic = monotonic
        replayed = time
    }

    public func now() -> Timestamp {
        replayed?.now ?? origin + Int64(monotonic.now / .seconds(1))
    }

    /// Sleeps until `instant` on this clock.
    /// - Throws: `CancellationError` when the task is cancelled first.
    public func sleep(until instant: Timestamp) async throws {
        guard let replayed else {
            return try await monotonic.sleep(until: .seconds(instant.secondsSince1970 - origin.secondsSince1970))
        }
        while replayed.now < instant { try await monotonic.sleep(for: .milliseconds(10)) }
    }
}

/// The time of a replayed event log: it stands still until the replay moves it forward, never back.
public final class EventTime: Sendable {
    private let seconds: Atomic<Int64>

    public init(_ start: Timestamp) { seconds = Atomic(start.secondsSince1970) }

    public var now: Timestamp { Timestamp(secondsSince1970: seconds.load(ordering: .acquiring)) }

    /// Moves the time to `instant`, if that is later.
    public func advance(to instant: Timestamp) {
        seconds.max(instant.secondsSince1970, ordering: .acquiringAndReleasing)
    }
}
