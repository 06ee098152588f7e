/// One customer of an audience: their history and what it scores at the audience's instant.
public struct AudienceMember: Sendable, Hashable {
    public var history: CustomerHistory
    /// Whole days from the last purchase to the audience's instant (0 for a purchase after it).
    public var recencyDays: Int
    public var scores: RFMScores
    public var cell: GridCell
    /// The audience's instant.
    public var now: Timestamp
    /// What Sparrow sent the customer and how they responded, from the store; empty unless a filter asks for it.
    public var marketing = MarketingHistory()

    public var segment: RFMSegment { scores.segment }
}

/// The customers who bought, scored at one instant: recency, frequency and monetary value with their quintile
/// scores, the named segment, and the cell of the store grid.
public struct Audience: Sendable {
    /// By money spent, most first, then by customer.
    public let members: [AudienceMember]
    /// The average order value from which a customer counts as high value in the grid.
    public let aovThreshold: Money
    /// Customers whose orders hold no dated purchase (only unpaid, refunded or closed orders): not scored.
    public let unscored: Int

    /// Scores `book`'s customers at `now`.
    /// - Parameter aovThreshold: the grid's high-value threshold; the median average order value when nil (of an even
    ///   count, the lower of the two middle ones).
    public init(_ book: CustomerBook, now: Timestamp, aovThreshold: Money? = nil) {
        // The histories are read where the book holds them, by position, and copied once, into their members.
        let histories = book.histories.values
        let buyers = histories.indices.filter { histories[$0].purchases > 0 && histories[$0].lastPurchase != nil }
        unscored = histories.count - buyers.count
        let days = buyers.map {
            max(0, Int((now.secondsSince1970 - histories[$0].lastPurchase!.secondsSince1970) / 86_400))
        }
        let spent = buyers.map { histories[$0].spent.minorUnits }
        let recency = QuintileScale(days.map { -Int64($0) })
        let frequency = QuintileScale(buyers.map { Int64(histories[$0].purchases) })
        let monetary = QuintileScale(spent)
        let values = buyers.map { histories[$0].averageOrderValue }.sorted()
        let threshold = aovThreshold ?? (values.isEmpty ? .zero : values[(values.count - 1) / 2])
        self.aovThreshold = threshold
        let order = buyers.indices.sorted { a, b in
            spent[a] != spent[b]
                ? spent[a] > spent[b] : histories[buyers[a]].customer < histories[buyers[b]].customer
        }
        members = order.map { index in
            let (history, days) = (histories[buyers[index]], days[index])
            return AudienceMember(
                history: history, recencyDays: days,
                scores: RFMScores(
                    recency: recency.score(-Int64(days)), frequency: frequency.score(Int64(history.purchases)),
                    monetary: monetary.score(history.spent.minorUnits)),
                cell: GridCell(
                    days: days, purchases: history.purchases, highValue: history.averageOrderValue >= threshold),
                now: now)
        }
    }

    /// How many members each grid cell holds; cells without members are left out.
    public var grid: [GridCell: Int] { Self.grid(of: members) }

    /// How many of `members` each grid cell holds; cells without any are left out.
    public static func grid(of members: some Sequence<AudienceMember>) -> [GridCell: Int] {
        members.reduce(into: [:]) { $0[$1.cell, default: 0] += 1 }
    }
}

/// A customer's marketing history in Sparrow's store, over every campaign.
public struct MarketingHistory: Sendable, Hashable {
    /// Messages a gateway took for the customer.
    public var received = 0
    /// Campaigns whose measured effect counted the customer a responder.
    public var responded = 0
    /// When the latest of those messages went.
    public var lastSent: Timestamp?

    public init(received: Int = 0, responded: Int = 0, lastSent: Timestamp? = nil) {
        self.received = received
        self.responded = responded
        self.lastSent = lastSent
    }

    /// Responded ÷ received; 0 for a customer never sent to.
    public var responseRate: Double { received == 0 ? 0 : Double(responded) / Double(received) }
}
