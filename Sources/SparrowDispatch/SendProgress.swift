public import CoreMetrics
import Synchronization

/// Running counts of a campaign, updated lock-free from every stage and read by the progress display; the same
/// counts go to the run's metrics (swift-metrics), with each answer's latency and the requests in flight:
///
/// | metric | |
/// |---|---|
/// | `sparrow_rows_total` | input rows decided |
/// | `sparrow_messages_total{state}` | answers: `accepted`, `failed`, `unknown`, `deferred` (the gateway takes it later) |
/// | `sparrow_submit_latency_seconds` | from a message's first request to its answer (a histogram) |
/// | `sparrow_requests_in_flight` | messages whose requests are out |
/// | `sparrow_worker_left_to_others_total` | claimed messages another worker took over, or answered, first |
public final class SendProgress: Sendable {
    private let rows = Atomic(0)
    private let journaled = Atomic(0)
    private let accepted = Atomic(0)
    private let failed = Atomic(0)
    private let unknown = Atomic(0)
    private let deferred = Atomic(0)
    private let inputBytes = Atomic(0)

    private let rowsDecided: Counter
    private let answers: (accepted: Counter, failed: Counter, unknown: Counter, deferred: Counter)
    private let latency: Timer
    private let inFlight: Meter
    private let leftToOthersCount: Counter

    /// - Parameter metrics: where the metrics are made; the process's `MetricsSystem` when not given.
    public init(metrics: any MetricsFactory = MetricsSystem.factory) {
        rowsDecided = Counter(label: "sparrow_rows_total", factory: metrics)
        func messages(_ state: String) -> Counter {
            Counter(label: "sparrow_messages_total", dimensions: [("state", state)], factory: metrics)
        }
        answers = (messages("accepted"), messages("failed"), messages("unknown"), messages("deferred"))
        latency = Timer(label: "sparrow_submit_latency_seconds", factory: metrics)
        inFlight = Meter(label: "sparrow_requests_in_flight", factory: metrics)
        leftToOthersCount = Counter(label: "sparrow_worker_left_to_others_total", factory: metrics)
    }

    public struct Snapshot: Sendable, Hashable {
        /// Input rows decided, and messages journaled to send.
        public var rows: Int
        public var journaled: Int
        /// Answers so far.
        public var accepted: Int
        public var failed: Int
        public var unknown: Int
        /// Answers that put a message off until later (a gateway's frequency limit).
        public var deferred: Int
        /// Input bytes read.
        public var inputBytes: Int

        public var answered: Int { accepted + failed + unknown + deferred }
    }

    public var snapshot: Snapshot {
        Snapshot(
            rows: rows.load(ordering: .relaxed), journaled: journaled.load(ordering: .relaxed),
            accepted: accepted.load(ordering: .relaxed), failed: failed.load(ordering: .relaxed),
            unknown: unknown.load(ordering: .relaxed), deferred: deferred.load(ordering: .relaxed),
            inputBytes: inputBytes.load(ordering: .relaxed))
    }

    func read(bytes: Int) { inputBytes.add(bytes, ordering: .relaxed) }

    func decided(rows count: Int, toSend: Int) {
        rows.add(count, ordering: .relaxed)
        journaled.add(toSend, ordering: .relaxed)
        if count > 0 { rowsDecided.increment(by: count) }
    }

    /// Messages counted to send that another worker holds: they are its to send and count.
    func leftToOthers(_ count: Int) {
        journaled.subtract(count, ordering: .relaxed)
        leftToOthersCount.increment(by: count)
    }

    /// A request carrying `messages` messages is going out.
    func started(messages: Int) {
        inFlight.increment(by: Double(messages))
    }

    /// A message that `started` has its answer.
    func count(_ outcome: SubmitOutcome) {
        switch outcome.status {
        case .accepted:
            accepted.add(1, ordering: .relaxed)
            answers.accepted.increment()
        case .failed, .blacklisted:
            failed.add(1, ordering: .relaxed)
            answers.failed.increment()
        case .deferred:
            deferred.add(1, ordering: .relaxed)
            answers.deferred.increment()
        case .unknown:
            unknown.add(1, ordering: .relaxed)
            answers.unknown.increment()
        }
        latency.recordNanoseconds(Int64(outcome.latency / .nanoseconds(1)))
        inFlight.decrement()
    }
}
