import SparrowCore
import Synchronization

/// The webhook's counters, as `GET /metrics` shows them (Prometheus text format 0.0.4). Touched a few times per
/// request, under one lock: no actor hop.
final class ReceiptMetrics: Sendable {
    private struct Counters: Sendable {
        var received: [ReceiptStatus: Int] = [:]
        var applied = 0
        var duplicateOrStale = 0
        var batches = 0
        var replies = 0
        var unsubscribes = 0
        var rejected: [String: Int] = [:]
        var skipped: [String: Int] = [:]
    }

    private let counters = Lock(Counters())

    /// A receipt was read, whether or not it moves a message.
    func received(_ status: ReceiptStatus) {
        counters.withLock { $0.received[status, default: 0] += 1 }
    }

    /// A batch of `count` receipts was committed and moved `moved` messages forward. A receipt matched by id alone
    /// may move messages of two gateways that gave the same id, so `moved` can exceed `count`.
    func committed(_ count: Int, moved: Int) {
        counters.withLock { counters in
            counters.batches += 1
            counters.applied += moved
            counters.duplicateOrStale += max(count - moved, 0)
        }
    }

    /// An inbound reply was read; `unsubscribed` when its sender was suppressed.
    func replied(unsubscribed: Bool) {
        counters.withLock { counters in
            counters.replies += 1
            if unsubscribed { counters.unsubscribes += 1 }
        }
    }

    /// A request was refused for `reason` (a bounded code such as `bad-token` or `unknown-status`).
    func rejected(_ reason: String) {
        counters.withLock { $0.rejected[reason, default: 0] += 1 }
    }

    /// An item of a receipt list could not be read (`code` as `rejected`'s reasons); the rest of its list was.
    func skipped(_ code: ReceiptError.Code) {
        counters.withLock { $0.skipped[code.description, default: 0] += 1 }
    }

    /// Every counter, and the batcher's `backlog` as gauges, in the Prometheus text format; rejections and skipped
    /// items by reason in alphabetical order.
    func prometheusText(backlog: ReceiptBatcher.Backlog) -> String {
        let snapshot = counters.withLock { $0 }
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(String, Int)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (labels, value) in samples { text += "\(name)\(labels) \(value)\n" }
        }
        func counter(_ name: String, _ help: String, _ samples: [(String, Int)]) {
            metric(name, "counter", help, samples)
        }
        counter(
            "sparrow_receipts_received_total", "Delivery receipts read, by the state they report.",
            ReceiptStatus.allCases.map { ("{state=\"\($0.rawValue)\"}", snapshot.received[$0] ?? 0) })
        counter("sparrow_receipts_applied_total", "Messages a receipt moved forward.", [("", snapshot.applied)])
        counter(
            "sparrow_receipts_duplicate_or_stale_total",
            "Final receipts that moved nothing: repeated, behind the message's state, or for an unknown message.",
            [("", snapshot.duplicateOrStale)])
        counter("sparrow_receipt_batches_total", "Store transactions that wrote receipts.", [("", snapshot.batches)])
        counter("sparrow_mo_received_total", "Inbound replies read.", [("", snapshot.replies)])
        counter("sparrow_unsubscribes_total", "Replies that unsubscribed their sender.", [("", snapshot.unsubscribes)])
        counter(
            "sparrow_webhook_rejected_total", "Requests refused, by reason.",
            snapshot.rejected.sorted { $0.key < $1.key }.map { ("{reason=\"\($0.key)\"}", $0.value) })
        counter(
            "sparrow_receipts_skipped_total", "Items of receipt lists that could not be read, by reason.",
            snapshot.skipped.sorted { $0.key < $1.key }.map { ("{reason=\"\($0.key)\"}", $0.value) })
        metric("sparrow_receipts_reading", "gauge", "Receipt requests being read.", [("", backlog.reading)])
        metric(
            "sparrow_receipts_queued", "gauge", "Receipts waiting for their batch to be written.",
            [("", backlog.queued)])
        return text
    }
}
