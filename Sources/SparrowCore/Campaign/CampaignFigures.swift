/// A campaign's funnel, for one slice (all of it, a carrier or a gateway). Every input row is counted once:
/// `targeted` = `rejected` + `duplicate` + `suppressed` + `capped` + `heldOut` + `overBudget` + messages, and messages = `deferred` +
/// `delivered` + `failed` + `pending`. `submitted` and `accepted` are stages messages passed.
public struct Funnel: Sendable, Hashable {
    public var targeted = 0
    public var rejected = 0
    public var duplicate = 0
    public var suppressed = 0
    public var capped = 0
    /// In the campaign's holdout: never to be sent.
    public var heldOut = 0
    /// Below the campaign's value cut: never to be sent.
    public var overBudget = 0
    /// Held for quiet hours, not yet sent.
    public var deferred = 0
    /// Handed to a gateway at least once.
    public var submitted = 0
    /// Taken by a gateway.
    public var accepted = 0
    public var delivered = 0
    /// Refused by the gateway, not deliverable, or expired.
    public var failed = 0
    /// Not settled yet: waiting to be sent, awaiting a receipt, or unknown after an ambiguous failure.
    public var pending = 0
    /// Of `pending`: may or may not have reached the gateway (an ambiguous failure, or in flight at a crash to a
    /// gateway that does not honour idempotency keys); only a receipt settles it.
    public var unknown = 0
    /// Segments and cost of the messages gateways accepted.
    public var segments = 0
    public var cost = 0.0
    public var latencyP50: Duration?
    public var latencyP99: Duration?

    public init() {}

    /// Delivered over accepted, or nil before anything was accepted.
    public var deliveryRate: Double? { accepted > 0 ? Double(delivered) / Double(accepted) : nil }

    /// Counts `count` input rows that became no message, for `status` (`rejected`, `duplicate`, `suppressed`,
    /// `capped`, `heldOut`, `overBudget`; any other counts as rejected).
    /// - Complexity: O(1).
    public mutating func add(skipped count: Int, status: PlanStatus) {
        targeted += count
        switch status {
        case .duplicate: duplicate += count
        case .suppressed: suppressed += count
        case .capped: capped += count
        case .heldOut: heldOut += count
        case .overBudget: overBudget += count
        default: rejected += count
        }
    }

    /// Counts `count` messages that stand at `state`: `sent` when they were handed to a gateway at least once, with
    /// the `segments` and `cost` of the lot, which count only once a gateway has accepted them.
    /// - Complexity: O(1).
    public mutating func add(messages count: Int, state: MessageState, sent: Bool, segments: Int, cost: Double) {
        targeted += count
        if sent || state == .submitting || state == .unknown { submitted += count }
        switch state {
        case .deferred: deferred += count
        case .ready, .submitting, .accepted: pending += count
        case .unknown:
            pending += count
            unknown += count
        case .failed, .undelivered, .expired: failed += count
        case .delivered: delivered += count
        }
        if state == .accepted || state.rank == 3 {
            accepted += count
            self.segments += segments
            self.cost += cost
        }
    }
}

/// A campaign's funnel in total, per carrier and per gateway ("" for rows with none).
public struct CampaignFigures: Sendable, Hashable {
    public var total = Funnel()
    public var byCarrier: [String: Funnel] = [:]
    public var byGateway: [String: Funnel] = [:]

    public init() {}
}

extension CampaignFigures {
    /// One of the funnels: the total, a carrier's or a gateway's.
    package enum Slice: Hashable {
        case total, carrier(String), gateway(String)

        /// The three slices a message of `carrier` sent through `gateway` counts in.
        package static func of(carrier: String?, gateway: String?) -> [Slice] {
            [.total, .carrier(carrier ?? ""), .gateway(gateway ?? "")]
        }
    }

    package subscript(slice: Slice) -> Funnel {
        get {
            switch slice {
            case .total: total
            case .carrier(let carrier): byCarrier[carrier, default: Funnel()]
            case .gateway(let gateway): byGateway[gateway, default: Funnel()]
            }
        }
        set {
            switch slice {
            case .total: total = newValue
            case .carrier(let carrier): byCarrier[carrier] = newValue
            case .gateway(let gateway): byGateway[gateway] = newValue
            }
        }
    }
}

/// A campaign over time, for its report's charts: the messages gateways took and those delivered, each minute, and
/// how long deliveries took.
public struct CampaignTimeline: Sendable, Hashable {
    public var sends: [MinuteCount]
    /// By the minute of their receipt.
    public var deliveries: [MinuteCount]
    /// From the send to the delivery receipt, in whole seconds, ascending.
    public var latencies: [LatencyCount]

    public init(sends: [MinuteCount] = [], deliveries: [MinuteCount] = [], latencies: [LatencyCount] = []) {
        self.sends = sends
        self.deliveries = deliveries
        self.latencies = latencies
    }
}

/// How many messages were delivered `seconds` after they were sent.
public struct LatencyCount: Sendable, Hashable {
    public var seconds: Int64
    public var count: Int

    public init(seconds: Int64, count: Int) {
        self.seconds = seconds
        self.count = count
    }

    /// The bands a latency chart draws, by their lower bounds in seconds: under 5 s, 5–10 s, 10–30 s, 30 s–1 min,
    /// 1–2 min, 2–5 min, 5–10 min, 10–30 min, 30–60 min, and an hour or more.
    public static let bands: [Int64] = [0, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]

    /// `counts` summed into `bands`, a count for each, empty bands included.
    public static func banded(_ counts: [LatencyCount]) -> [Int] {
        var banded = [Int](repeating: 0, count: bands.count)
        for count in counts { banded[(bands.lastIndex { count.seconds >= $0 } ?? 0)] += count.count }
        return banded
    }
}

/// How many of a campaign's messages something happened to in each minute (gateways took them, or receipts said
/// they were delivered), for its report's charts over time.
public struct MinuteCount: Sendable, Hashable {
    /// The minute's start.
    public var minute: Timestamp
    public var count: Int

    public init(minute: Timestamp, count: Int) {
        self.minute = minute
        self.count = count
    }

    /// Each of `series` (in time order) summed into the same buckets, at most `limit` of a round width (1, 5, 15 or
    /// 30 minutes, 1, 3, 6 or 12 hours, or days) over all of them: the buckets' starts, and each series' count in
    /// each, empty buckets included.
    public static func buckets(_ series: [MinuteCount]..., limit: Int = 60) -> (
        width: Int64, starts: [Timestamp], counts: [[Int]]
    ) {
        let minutes = series.flatMap { [$0.first, $0.last] }.compactMap { $0?.minute.secondsSince1970 }
        guard let first = minutes.min(), let last = minutes.max() else { return (60, [], series.map { _ in [] }) }
        let widths: [Int64] = [60, 300, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400]
        let span = last - first + 60
        let days = (span + 86_399) / 86_400
        let width =
            widths.first { (span + $0 - 1) / $0 <= Int64(limit) } ?? 86_400 * ((days + Int64(limit)) / Int64(limit))
        let start = first - first % width
        let starts = (0...(last - start) / width).map { Timestamp(secondsSince1970: start + $0 * width) }
        let counts = series.map { counts in
            var buckets = [Int](repeating: 0, count: starts.count)
            for count in counts { buckets[Int((count.minute.secondsSince1970 - start) / width)] += count.count }
            return buckets
        }
        return (width, starts, counts)
    }
}
