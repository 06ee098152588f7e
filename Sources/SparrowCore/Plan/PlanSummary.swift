/// The totals of a plan, accumulated row by row in constant memory (bounded by the distinct carriers, gateways,
/// reasons and release minutes, never by the row count).
public struct PlanSummary: Sendable {
    public private(set) var rows = 0
    public private(set) var byReason: [String: Int] = [:]
    public private(set) var byGateway: [String: GatewayTotals] = [:]
    private var statusCounts = [Int](repeating: 0, count: PlanStatus.allCases.count)
    private var gsm7Messages = 0
    private var ucs2Messages = 0
    private var segmentCounts: [Int] = []
    /// Throttle units released per carrier id ("" for none) and minute.
    private var releases: [String: [Int64: Int]] = [:]

    public struct GatewayTotals: Sendable, Hashable {
        public var messages = 0
        public var segments = 0
        public var cost = 0.0

        mutating func add(_ message: PlannedMessage) {
            messages += 1
            segments += message.segments.segments
            cost += message.cost
        }
    }

    /// Rows by status; statuses with no rows are absent.
    public var byStatus: [PlanStatus: Int] {
        var counts: [PlanStatus: Int] = [:]
        for (index, status) in PlanStatus.allCases.enumerated() where statusCounts[index] > 0 {
            counts[status] = statusCounts[index]
        }
        return counts
    }

    /// Messages by encoding; encodings with no messages are absent.
    public var byEncoding: [SMSEncoding: Int] {
        [.gsm7: gsm7Messages, .ucs2: ucs2Messages].filter { $0.value > 0 }
    }

    /// Messages by segment count.
    public var segmentHistogram: [Int: Int] {
        var histogram: [Int: Int] = [:]
        for (segments, count) in segmentCounts.enumerated() where count > 0 { histogram[segments] = count }
        return histogram
    }

    public init() {}

    public var messages: Int { byGateway.values.reduce(0) { $0 + $1.messages } }
    public var segments: Int { byGateway.values.reduce(0) { $0 + $1.segments } }
    public var cost: Double { byGateway.values.reduce(0) { $0 + $1.cost } }

    /// Counts a message that will be sent (ready or deferred).
    public mutating func add(_ message: PlannedMessage) {
        count(message.isDeferred ? .deferred : .ready)
        if message.segments.encoding == .gsm7 { gsm7Messages += 1 } else { ucs2Messages += 1 }
        let segments = message.segments.segments
        if segments >= segmentCounts.count {
            segmentCounts += repeatElement(0, count: segments + 1 - segmentCounts.count)
        }
        segmentCounts[segments] += 1
        byGateway[message.gateway, default: GatewayTotals()].add(message)
        let minute = message.sendAt.secondsSince1970.floorDivided(by: 60) * 60
        releases[message.carrier ?? "", default: [:]][minute, default: 0] += message.throttleUnits
    }

    /// Counts a row that will not be sent.
    public mutating func add(_ status: PlanStatus, reason: RejectReason? = nil) {
        count(status)
        if let reason {
            byReason[reason.code, default: 0] += 1
        }
    }

    private mutating func count(_ status: PlanStatus) {
        rows += 1
        statusCounts[PlanStatus.allCases.firstIndex(of: status)!] += 1
    }

    /// When the last message would be handed to its gateway if every carrier ran at its configured rate from
    /// `now`, each message no earlier than its release (quiet hours). Gateway latency and concurrency are not
    /// modelled: this is the floor the carriers' rates set. Nil when nothing is to be sent.
    ///
    /// - Complexity: O(m log m) in the distinct release minutes per carrier.
    public func forecastFinish(now: Timestamp, carriers: CarrierDirectory) -> Timestamp? {
        var finish: Double?
        for (carrierID, byMinute) in releases {
            let rate = carriers.carrier(id: carrierID)?.rate
            var clock = Double(now.secondsSince1970)
            for (minute, units) in byMinute.sorted(by: { $0.key < $1.key }) {
                clock = max(clock, Double(minute))
                if let rate { clock += Double(units) / rate }
            }
            finish = max(finish ?? clock, clock)
        }
        return finish.map { Timestamp(secondsSince1970: Int64($0.rounded(.up))) }
    }
}
