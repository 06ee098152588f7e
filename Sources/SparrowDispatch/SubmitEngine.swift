public import SparrowCore
import SparrowStore
import Synchronization

/// Submits journaled messages: a lane per carrier holds the carrier to its rate, a window bounds the requests in
/// flight over all lanes, each message is marked as submitting (durably, in batches) just before its request
/// goes, and the answers are recorded in batched transactions.
final class SubmitEngine: Sendable {
    private let store: any CampaignStore
    private let client: GatewayClient
    private let throttles: [String: CarrierThrottle<ContinuousClock>]
    private let unthrottled = CarrierThrottle(rate: nil, burst: 1, clock: ContinuousClock())
    private let window: AsyncPermits
    private let clock: CampaignClock
    private let progress: SendProgress
    private let stop: StopSignal
    private let quietHours: QuietHoursCheck?

    init(
        store: any CampaignStore, client: GatewayClient, carriers: [Carrier], window: Int, clock: CampaignClock,
        quietHours: QuietHoursCheck?, progress: SendProgress, stop: StopSignal
    ) {
        self.quietHours = quietHours
        self.store = store
        self.client = client
        throttles = Dictionary(
            uniqueKeysWithValues: carriers.compactMap { carrier in
                carrier.rate.map { (carrier.id, CarrierThrottle(rate: $0, burst: carrier.burst, clock: ContinuousClock())) }
            })
        self.window = AsyncPermits(window)
        self.clock = clock
        self.progress = progress
        self.stop = stop
    }

    /// Submits every message taken from `batches` until it is closed (or the stop signal), and returns when each
    /// message sent has been answered and recorded.
    func submit(_ batches: BoundedQueue<[JournalEntry]>) async throws {
        defer { batches.close() }  // a producer never waits on an engine that has stopped
        let recorder = SubmitRecorder(store: store, stop: stop)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await recorder.run() }
            let failure: (any Error)?
            do {
                try await runLanes(batches, recorder: recorder)
                failure = nil
            } catch {
                failure = error
            }
            await window.acquire(window.limit)  // every request sent has been answered
            window.release(window.limit)
            recorder.close()
            if let failure {
                try? await group.waitForAll()
                throw failure
            }
            try await group.waitForAll()  // the recorder's error, if its last writes failed
        }
    }

    /// Hands each batch's messages to their carrier's lane, and returns when every lane has finished.
    private func runLanes(_ batches: BoundedQueue<[JournalEntry]>, recorder: SubmitRecorder) async throws {
        try await withThrowingTaskGroup(of: Void.self) { lanes in
            var queues: [String: BoundedQueue<[JournalEntry]>] = [:]
            for await batch in batches {
                // Grouping keeps each carrier's messages in line order.
                for (carrier, entries) in Dictionary(grouping: batch, by: { $0.carrier ?? "" }) {
                    if queues[carrier] == nil {
                        let queue = BoundedQueue<[JournalEntry]>(capacity: 4)
                        queues[carrier] = queue
                        let throttle = throttles[carrier] ?? unthrottled
                        lanes.addTask { try await self.runLane(queue, throttle: throttle, recorder: recorder) }
                    }
                    await queues[carrier]!.put(entries)
                }
            }
            for queue in queues.values { queue.close() }
            try await lanes.waitForAll()
        }
    }

    /// Sends one carrier's messages in order, as fast as its throttle and the window allow. Each message is routed
    /// first (a message already in flight in an earlier run keeps its gateway), then journaled as submitting to
    /// that gateway, then sent as the window frees up: each request starts from the answer that freed its permit,
    /// on the transport's thread, the way a C client's loop does, while the lane journals the next group. A lane
    /// waits for a group's last request to start before it hands over the next, so at most two groups per lane are
    /// journaled as submitting before their requests go. A store failure stops the campaign: the requests already
    /// sent finish and are recorded, nothing more goes, and the error is thrown after them.
    ///
    /// A message marked as submitting that a crash kept from going is sent again under its key after the crash
    /// when its gateway honours keys, and is recorded as unknown otherwise. So groups are at most the window's size
    /// (and 256), and 256 messages when every gateway honours keys: then a lane marks its next group while many
    /// requests are still to go, and neither a slow commit nor a record batch ahead of it in the writer's queue
    /// leaves the window idle.
    private func runLane(
        _ queue: BoundedQueue<[JournalEntry]>, throttle: CarrierThrottle<ContinuousClock>, recorder: SubmitRecorder
    ) async throws {
        defer { queue.close() }
        let largestGroup = client.everyGatewayHonoursKeys ? 256 : min(window.limit, 256)
        var previous: AsyncPermits?  // the last group's starts, counted down
        for await entries in queue {
            var rest = entries[...]
            while !rest.isEmpty, !stop.isSet {
                let admitted = await throttle.admit(rest.prefix(largestGroup).lazy.map(\.throttleUnits))
                var group = Array(rest.prefix(admitted))
                rest = rest.dropFirst(admitted)
                do {
                    try await postponeQuiet(&group)
                } catch {
                    stop.set()
                    throw error
                }
                guard !group.isEmpty else { continue }
                var routes: [GatewayClient.Route] = []
                for entry in group {
                    routes.append(entry.state == .submitting ? .pinned(entry.gateway) : await client.route(entry.gateway))
                }
                do {
                    // While the previous group's requests are still out: the commit does not drain the window.
                    try await store.markSubmitting(zip(group, routes).map { ($0.id, $1.gateway) })
                } catch {
                    stop.set()  // nothing more goes out unjournaled
                    throw error
                }
                if let previous { await previous.acquire(previous.limit) }
                // All permits taken now; each request gives one back as it starts, so that the lane can wait above
                // for the whole group to have started before it hands over the next.
                let started = AsyncPermits(group.count)
                started.acquire(group.count) {}
                for (entry, route) in zip(group, routes) {
                    window.acquire {
                        let message = OutboundMessage(id: entry.id, to: entry.to, text: entry.text, gateway: entry.gateway)
                        self.client.submit(message, via: route) { outcome in
                            recorder.add(SubmitRecord(entry: entry, outcome: outcome, at: self.clock.now()))
                            self.progress.count(outcome)
                            self.window.release()  // last: once every permit is back, every answer is with the recorder
                        }
                        started.release()
                    }
                }
                previous = started
            }
        }
    }

    /// Takes out of `group` the messages whose recipients' quiet hours have begun since they were decided, and
    /// journals them as deferred to the window's end.
    private func postponeQuiet(_ group: inout [JournalEntry]) async throws {
        guard let quietHours else { return }
        let now = clock.now()
        var postponed: [(id: String, sendAt: Timestamp)] = []
        group.removeAll { entry in
            guard entry.state.rank == 0, let release = quietHours.release(at: now, zone: entry.timeZone) else { return false }
            postponed.append((entry.id, release))
            return true
        }
        if !postponed.isEmpty { try await store.postpone(postponed) }
    }
}

/// Collects submit answers and writes them to the store in batched transactions: every 20 ms, or at once when
/// 512 are waiting.
final class SubmitRecorder: Sendable {
    private struct State {
        var pending: [SubmitRecord] = []
        var closed = false
    }

    private let store: any CampaignStore
    private let stop: StopSignal
    private let state = Mutex(State())
    private let batchSize = 512

    init(store: any CampaignStore, stop: StopSignal) {
        self.store = store
        self.stop = stop
    }

    func add(_ record: SubmitRecord) {
        state.withLock { $0.pending.append(record) }
    }

    func close() {
        state.withLock { $0.closed = true }
    }

    /// Writes batches until closed, then writes what is left.
    func run() async throws {
        let clock = ContinuousClock()
        while true {
            let (batch, closed) = state.withLock { state in
                let batch = Array(state.pending.prefix(batchSize))
                state.pending.removeFirst(batch.count)
                return (batch, state.closed && state.pending.isEmpty)
            }
            if !batch.isEmpty {
                do {
                    try await store.record(batch)
                } catch {
                    stop.set()  // answers that cannot be recorded stop the sending; resume settles them
                    throw error
                }
            }
            if closed { return }
            if batch.count < batchSize { try? await clock.sleep(for: .milliseconds(20)) }
        }
    }
}

extension SubmitRecord {
    init(entry: JournalEntry, outcome: SubmitOutcome, at: Timestamp) {
        let (state, gatewayIDs, error): (MessageState, [String], String?) =
            switch outcome.status {
            case .accepted(let gatewayIDs): (.accepted, gatewayIDs, nil)
            case .failed(let reason): (.failed, [], reason)
            case .unknown(let reason): (.unknown, [], reason)
            }
        self.init(
            id: entry.id, campaign: entry.campaign, recipient: entry.to, state: state, gateway: outcome.gateway,
            gatewayMessageID: gatewayIDs.first, attempts: outcome.attempts, latency: outcome.latency, error: error,
            at: at, partIDs: gatewayIDs.count > 1 ? gatewayIDs : [])
    }
}

/// Set once, by Ctrl-C or SIGTERM: stop taking new work, finish what is in flight.
public final class StopSignal: Sendable {
    private let flag = Atomic(false)

    public init() {}

    public var isSet: Bool { flag.load(ordering: .acquiring) }

    public func set() { flag.store(true, ordering: .releasing) }
}

/// The campaign's clock: the wall clock, or `--now` advanced by the time elapsed since the run began.
public struct CampaignClock: Sendable {
    private let origin: Timestamp
    private let start = ContinuousClock.now

    public init(origin: Timestamp) {
        self.origin = origin
    }

    public func now() -> Timestamp {
        origin + Int64((ContinuousClock.now - start) / .seconds(1))
    }

    /// How long until `instant` on this clock.
    public func duration(until instant: Timestamp) -> Duration {
        .seconds(instant.secondsSince1970 - now().secondsSince1970)
    }
}
