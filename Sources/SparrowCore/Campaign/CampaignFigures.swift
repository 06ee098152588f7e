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

/// How many of a campaign's messages a gateway took in each minute, for its report's chart over time.
public struct MinuteCount: Sendable, Hashable {
    /// The minute's start.
    public var minute: Timestamp
    public var count: Int

    public init(minute: Timestamp, count: Int) {
        self.minute = minute
        self.count = count
    }

    /// `counts` (in time order) summed into at most `limit` buckets of a round width (1, 5, 15 or 30 minutes, 1, 3,
    /// 6 or 12 hours, or days): each bucket's start and count, empty buckets included.
    public static func buckets(_ counts: [MinuteCount], limit: Int = 60) -> (width: Int64, buckets: [MinuteCount]) {
        guard let first = counts.first?.minute.secondsSince1970, let last = counts.last?.minute.secondsSince1970 else {
            return (60, [])
        }
        let widths: [Int64] = [60, 300, 900, 1800, 3600, 10_800, 21_600, 43_200, 86_400]
        let span = last - first + 60
        let days = (span + 86_399) / 86_400
        let width =
            widths.first { (span + $0 - 1) / $0 <= Int64(limit) } ?? 86_400 * ((days + Int64(limit)) / Int64(limit))
        let start = first - first % width
        var buckets = (0...(last - start) / width).map {
            MinuteCount(minute: Timestamp(secondsSince1970: start + $0 * width), count: 0)
        }
        for count in counts { buckets[Int((count.minute.secondsSince1970 - start) / width)].count += count.count }
        return (width, buckets)
    }
}
