/// The totals of a plan, accumulated row by row in constant memory (bounded by the distinct carriers, gateways,
/// reasons and release minutes, never by the row count).
public struct PlanSummary: Sendable {
    public private(set) var rows = 0
    public private(set) var byStatus: [PlanStatus: Int] = [:]
    public private(set) var byReason: [String: Int] = [:]
    public private(set) var byEncoding: [SMSEncoding: Int] = [:]
    /// Messages by segment count.
    public private(set) var segmentHistogram: [Int: Int] = [:]
    public private(set) var byGateway: [String: GatewayTotals] = [:]
    private var releases: [String: [Int64: Int]] = [:]

    public struct GatewayTotals: Sendable, Hashable {
        public var messages = 0
        public var segments = 0
        public var cost = 0.0
    }

    public init() {}

    public var messages: Int { byGateway.values.reduce(0) { $0 + $1.messages } }
    public var segments: Int { byGateway.values.reduce(0) { $0 + $1.segments } }
    public var cost: Double { byGateway.values.reduce(0) { $0 + $1.cost } }

    /// Counts a message that will be sent (ready or deferred).
    public mutating func add(_ message: PlannedMessage, carrier: Carrier?) {
        count(message.isDeferred ? .deferred : .ready)
        byEncoding[message.segments.encoding, default: 0] += 1
        segmentHistogram[message.segments.segments, default: 0] += 1
        byGateway[message.gateway, default: GatewayTotals()].messages += 1
        byGateway[message.gateway, default: GatewayTotals()].segments += message.segments.segments
        byGateway[message.gateway, default: GatewayTotals()].cost += message.cost
        let units = carrier?.unit == .segments ? message.segments.segments : 1
        let minute = message.sendAt.secondsSince1970.floorDivided(by: 60) * 60
        releases[carrier?.id ?? "", default: [:]][minute, default: 0] += units
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
        byStatus[status, default: 0] += 1
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
