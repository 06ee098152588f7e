import CoreMetrics
import SparrowCore
import Synchronization

/// The webhook's metrics (swift-metrics), made once from the server's factory: counters touched a few times per
/// request, and two gauges of the batcher's backlog, set when `GET /metrics` is read. Rejections and skipped items
/// are labelled with bounded reason codes only; their counters are made on first use.
final class ReceiptMetrics: Sendable {
    private let factory: any MetricsFactory
    private let received: [ReceiptStatus: Counter]
    private let applied: Counter
    private let duplicateOrStale: Counter
    private let batches: Counter
    private let replies: Counter
    private let unsubscribes: Counter
    private let clicks: Counter
    private let unknownLinks: Counter
    private let reading: Gauge
    private let queued: Gauge
    /// By reason, as they are first used.
    private let rejections = Lock<[String: Counter]>([:])
    private let skips = Lock<[String: Counter]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
        received = Dictionary(
            uniqueKeysWithValues: ReceiptStatus.allCases.map { status in
                (
                    status,
                    Counter(
                        label: "sparrow_receipts_received_total", dimensions: [("state", status.rawValue)],
                        factory: factory)
                )
            })
        applied = Counter(label: "sparrow_receipts_applied_total", factory: factory)
        duplicateOrStale = Counter(label: "sparrow_receipts_duplicate_or_stale_total", factory: factory)
        batches = Counter(label: "sparrow_receipt_batches_total", factory: factory)
        replies = Counter(label: "sparrow_mo_received_total", factory: factory)
        unsubscribes = Counter(label: "sparrow_unsubscribes_total", factory: factory)
        clicks = Counter(label: "sparrow_link_clicks_total", factory: factory)
        unknownLinks = Counter(label: "sparrow_link_unknown_total", factory: factory)
        reading = Gauge(label: "sparrow_receipts_reading", factory: factory)
        queued = Gauge(label: "sparrow_receipts_queued", factory: factory)
    }

    /// A click on a tracked link was recorded.
    func clicked() {
        clicks.increment()
    }

    /// A link was asked for whose code names no message.
    func unknownLink() {
        unknownLinks.increment()
    }

    /// A receipt was read, whether or not it moves a message.
    func received(_ status: ReceiptStatus) {
        received[status]!.increment()
    }

    /// A batch of `count` receipts was committed and moved `moved` messages forward. A receipt matched by id alone
    /// may move messages of two gateways that gave the same id, so `moved` can exceed `count`.
    func committed(_ count: Int, moved: Int) {
        batches.increment()
        applied.increment(by: moved)
        duplicateOrStale.increment(by: max(count - moved, 0))
    }

    /// An inbound reply was read; `unsubscribed` when its sender was suppressed.
    func replied(unsubscribed: Bool) {
        replies.increment()
        if unsubscribed { unsubscribes.increment() }
    }

    /// A request was refused for `reason` (a bounded code such as `bad-token` or `unknown-status`).
    func rejected(_ reason: String) {
        counter(reason, in: rejections, label: "sparrow_webhook_rejected_total").increment()
    }

    /// An item of a receipt list could not be read (`code` as `rejected`'s reasons); the rest of its list was.
    func skipped(_ code: ReceiptError.Code) {
        counter(code.description, in: skips, label: "sparrow_receipts_skipped_total").increment()
    }

    /// Sets the backlog's gauges, just before the metrics are read.
    func record(_ backlog: ReceiptBatcher.Backlog) {
        reading.record(backlog.reading)
        queued.record(backlog.queued)
    }

    private func counter(_ reason: String, in counters: borrowing Lock<[String: Counter]>, label: String) -> Counter {
        counters.withLock { counters in
            if let counter = counters[reason] { return counter }
            let counter = Counter(label: label, dimensions: [("reason", reason)], factory: factory)
            counters[reason] = counter
            return counter
        }
    }
}
