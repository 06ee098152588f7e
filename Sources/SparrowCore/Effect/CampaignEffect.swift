/// One number a campaign targeted, as its journal knows it: sent to, or held out.
public struct EffectRecipient: Sendable, Hashable {
    /// The E.164 digits as one integer (`PhoneNumber.e164Value`).
    public var number: UInt64
    public var heldOut: Bool
    public var carrier: String?
    /// When the campaign sent it, or would have (after quiet hours, in the morning): its window opens then.
    public var sentAt: Timestamp
    /// How far the message got; `.none` for a held-out number.
    public var reach: Reach
    /// What the message cost, when the gateway took it.
    public var cost: Double
    /// When the recipient first clicked their tracked link; nil when they never did.
    public var clickedAt: Timestamp?

    public enum Reach: Sendable, Hashable {
        /// Not sent: held out, failed, or not yet sent.
        case none
        /// Taken by the gateway, with no receipt of delivery (yet).
        case sent
        case delivered
    }

    public init(
        number: UInt64, heldOut: Bool, carrier: String?, sentAt: Timestamp, reach: Reach, cost: Double,
        clickedAt: Timestamp? = nil
    ) {
        self.number = number
        self.heldOut = heldOut
        self.carrier = carrier
        self.sentAt = sentAt
        self.reach = reach
        self.cost = cost
        self.clickedAt = clickedAt
    }
}

/// What one group of a campaign's recipients did within the window: the sent group's or the holdout's, in total or
/// for one segment, grid cell or carrier.
public struct EffectGroup: Sendable, Hashable {
    public var recipients = 0
    /// Messages the gateway took, and those delivered.
    public var sent = 0
    public var delivered = 0
    /// Recipients who clicked their link within the window, and delivered ones who bought within it.
    public var responders = 0
    /// Recipients who clicked their link within the window.
    public var clickers = 0
    /// Recipients who bought within the window (delivered or not: the holdout's are compared with all of them).
    public var buyers = 0
    public var orders = 0
    public var revenue = Money.zero
    /// The sum of the squares of each recipient's revenue (in minor units), for the revenue's interval.
    public var revenueSquares = 0.0
    public var cost = 0.0

    public init() {}

    /// A group's figures as a store keeps them.
    package init(
        recipients: Int, sent: Int, delivered: Int, responders: Int, clickers: Int, buyers: Int, orders: Int,
        revenue: Money, revenueSquares: Double, cost: Double
    ) {
        (self.recipients, self.sent, self.delivered, self.responders) = (recipients, sent, delivered, responders)
        (self.clickers, self.buyers, self.orders) = (clickers, buyers, orders)
        (self.revenue, self.revenueSquares, self.cost) = (revenue, revenueSquares, cost)
    }

    /// Buyers ÷ recipients.
    public var conversionRate: Double? { recipients == 0 ? nil : Double(buyers) / Double(recipients) }
    /// Responders ÷ delivered.
    public var responseRate: Double? { delivered == 0 ? nil : Double(responders) / Double(delivered) }
    /// Revenue ÷ orders.
    public var averageOrderValue: Money? { orders == 0 ? nil : Money(minorUnits: revenue.minorUnits / Int64(orders)) }
    /// Revenue ÷ cost, as store tools state it (an ROI of 18 reads 18:1).
    public var returnOnCost: Double? { cost > 0 ? Double(revenue.minorUnits) / 100 / cost : nil }

    var revenueMoments: Interval.Moments {
        Interval.Moments(count: recipients, sum: Double(revenue.minorUnits), sumOfSquares: revenueSquares)
    }

    mutating func add(_ recipient: EffectRecipient, bought: (orders: Int, revenue: Money)?, clicked: Bool) {
        recipients += 1
        if recipient.reach != .none {
            sent += 1
            cost += recipient.cost
        }
        if recipient.reach == .delivered { delivered += 1 }
        if clicked { clickers += 1 }
        if clicked || (bought != nil && recipient.reach == .delivered) { responders += 1 }
        guard let bought else { return }
        buyers += 1
        orders += bought.orders
        revenue = revenue + bought.revenue
        revenueSquares += Double(bought.revenue.minorUnits) * Double(bought.revenue.minorUnits)
    }
}

/// A campaign's sent group beside its holdout, in total or for one segment, grid cell or carrier.
public struct EffectRow: Sendable, Hashable {
    /// What the row is about, with `key` naming which one.
    public enum Dimension: String, Sendable, Hashable, CaseIterable {
        case total, segment, cell, carrier
    }

    public var dimension: Dimension
    public var key: String
    public var sent: EffectGroup
    public var holdout: EffectGroup

    public init(dimension: Dimension, key: String, sent: EffectGroup = .init(), holdout: EffectGroup = .init()) {
        self.dimension = dimension
        self.key = key
        self.sent = sent
        self.holdout = holdout
    }

    /// The rows of stored groups, a sent group and a holdout group each, in a report's order: by dimension as
    /// declared, then by key. A group of a dimension this version does not know is left out.
    package static func assembled(
        from stored: some Sequence<(dimension: String, key: String, heldOut: Bool, group: EffectGroup)>
    ) -> [EffectRow] {
        var rows: [Dimension: [String: EffectRow]] = [:]
        for (name, key, heldOut, group) in stored {
            guard let dimension = Dimension(rawValue: name) else { continue }
            let row = EffectRow(dimension: dimension, key: key)
            if heldOut {
                rows[dimension, default: [:]][key, default: row].holdout = group
            } else {
                rows[dimension, default: [:]][key, default: row].sent = group
            }
        }
        return Dimension.allCases.flatMap { (rows[$0] ?? [:]).values.sorted { $0.key < $1.key } }
    }

    /// What the messages added over the holdout, with 95 % intervals; nil without a holdout (or without recipients).
    public var lift: Lift? {
        guard sent.recipients > 0, holdout.recipients > 0 else { return nil }
        let conversion = Interval.difference(
            (sent.buyers, sent.recipients), (holdout.buyers, holdout.recipients))
        let perRecipient =
            sent.recipients > 1 && holdout.recipients > 1
            ? Interval.meanDifference(sent.revenueMoments, holdout.revenueMoments) : nil
        let size = Double(sent.recipients)
        let revenue = perRecipient.map { $0.scaled(by: size / 100) }  // in major units
        return Lift(
            conversion: conversion, buyers: conversion.scaled(by: size), revenue: revenue,
            returnOnCost: sent.cost > 0 ? revenue?.scaled(by: 1 / sent.cost) : nil)
    }

    /// The messages' effect: the sent group's rates less the holdout's, and what that difference comes to over
    /// the sent group.
    public struct Lift: Sendable, Hashable {
        /// The conversion rate's difference (Newcombe's interval).
        public var conversion: Interval
        /// Incremental buyers: the difference times the sent group's size.
        public var buyers: Interval
        /// Incremental revenue, in major units (Welch's interval on revenue per recipient, times the group's size).
        public var revenue: Interval?
        /// Incremental revenue ÷ cost.
        public var returnOnCost: Interval?

        /// Whether the conversion lift is significant at 95 %: its interval leaves out zero.
        public var isSignificant: Bool { conversion.excludesZero }
    }
}

/// Measures a campaign's effect from a store's orders: each purchase paid within the window after a recipient's
/// message was sent (or, for the holdout, would have been) is the campaign's, and so is a click on the recipient's
/// tracked link within it. Orders go in one at a time, in any
/// order; the orders placed before the campaign build each customer's history, for the rows by RFM segment and
/// grid cell as they stood when it was sent. Memory grows with recipients and customers, not with orders.
public struct EffectMeasurement: Sendable {
    private let recipients: [EffectRecipient]
    private let index: [UInt64: Int]
    private let window: Int64
    private let start: Timestamp
    private let region: String?
    /// Each recipient's attributed orders and revenue, by position.
    private var bought: [Int: (orders: Int, revenue: Money)] = [:]
    private var book = CustomerBook()

    /// - Parameters:
    ///   - window: seconds after a recipient's `sentAt` in which a purchase counts.
    ///   - start: the campaign's start: orders paid before it make the customers' histories.
    ///   - region: the region of order phones written without a country code.
    public init(recipients: [EffectRecipient], window: Int64, start: Timestamp, region: String?) {
        self.recipients = recipients
        index = Dictionary(recipients.enumerated().map { ($1.number, $0) }, uniquingKeysWith: { first, _ in first })
        self.window = window
        self.start = start
        self.region = region
    }

    /// Folds in one order of the store's.
    public mutating func add(_ order: Order) {
        guard let at = order.purchased else { return }
        if at < start {
            book.add(order)
            return
        }
        guard order.isPurchase, let position = number(of: order).flatMap({ index[$0] }) else { return }
        let opened = recipients[position].sentAt.secondsSince1970
        guard (opened...opened + window).contains(at.secondsSince1970) else { return }
        let before = bought[position] ?? (0, .zero)
        bought[position] = (before.orders + 1, before.revenue + order.amount)
    }

    /// The numbers of the responders: the recipients who clicked in their window, and those whose message was
    /// delivered who bought in it.
    public var responders: [UInt64] {
        recipients.indices.filter { position in
            clicked(position) || (bought[position] != nil && recipients[position].reach == .delivered)
        }.map { recipients[$0].number }.sorted()
    }

    private func clicked(_ position: Int) -> Bool {
        let recipient = recipients[position]
        guard let at = recipient.clickedAt?.secondsSince1970 else { return false }
        let opened = recipient.sentAt.secondsSince1970
        return (opened...opened + window).contains(at)
    }

    /// The sent group beside the holdout: in total, then by segment, grid cell and carrier, each ordered by key.
    public func rows() -> [EffectRow] {
        var standing: [UInt64: AudienceMember] = [:]
        for member in Audience(book, now: start).members {
            if let number = member.history.phone.flatMap(number(of:)) { standing[number] = member }
        }
        var total = EffectRow(dimension: .total, key: "")
        var rows: [EffectRow.Dimension: [String: EffectRow]] = [:]
        for (position, recipient) in recipients.enumerated() {
            let member = standing[recipient.number]
            let keys: [(EffectRow.Dimension, String)] = [
                (.segment, member?.segment.rawValue ?? "none"),
                (.cell, member.map { Self.key(of: $0.cell) } ?? "none"),
                (.carrier, recipient.carrier ?? "unknown"),
            ]
            let (bought, clicked) = (bought[position], clicked(position))
            total.add(recipient, bought: bought, clicked: clicked)
            for (dimension, key) in keys {
                rows[dimension, default: [:]][key, default: EffectRow(dimension: dimension, key: key)].add(
                    recipient, bought: bought, clicked: clicked)
            }
        }
        return [total]
            + EffectRow.Dimension.allCases.flatMap { dimension in
                (rows[dimension] ?? [:]).values.sorted { $0.key < $1.key }
            }
    }

    /// A grid cell's key: `≤ 30 days, 2, high`.
    package static func key(of cell: GridCell) -> String {
        "\(cell.recency.label), \(cell.frequencyLabel), \(cell.highValue ? "high" : "mid")"
    }

    private func number(of order: Order) -> UInt64? {
        order.phone.flatMap(number(of:))
    }

    private func number(of phone: String) -> UInt64? {
        guard case .success(let info) = PhoneNumberParser.parse(phone, defaultRegion: region) else { return nil }
        return info.number.e164Value
    }
}

extension EffectRow {
    mutating func add(_ recipient: EffectRecipient, bought: (orders: Int, revenue: Money)?, clicked: Bool) {
        if recipient.heldOut {
            holdout.add(recipient, bought: bought, clicked: clicked)
        } else {
            sent.add(recipient, bought: bought, clicked: clicked)
        }
    }
}

/// A campaign's measured effect: its rows (the total first), the window they were measured with, and when.
public struct CampaignEffect: Sendable, Hashable {
    /// Seconds after a message in which a purchase counts.
    public var window: Int64
    public var measuredAt: Timestamp
    public var rows: [EffectRow]

    public init(window: Int64, measuredAt: Timestamp, rows: [EffectRow]) {
        self.window = window
        self.measuredAt = measuredAt
        self.rows = rows
    }

    /// The row of the whole campaign.
    public var total: EffectRow {
        rows.first { $0.dimension == .total } ?? EffectRow(dimension: .total, key: "")
    }
}
