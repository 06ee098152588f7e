/// The grid store CRM teams work from: recency in five bands by days since the last purchase, frequency in five by
/// purchases, each cell split by average order value into high and mid.
public struct GridCell: Sendable, Hashable, Comparable {
    public enum Recency: Int, Sendable, Hashable, CaseIterable, Comparable {
        case within30Days, within90Days, within180Days, within365Days, longer

        public init(days: Int) {
            self =
                switch days {
                case ...30: .within30Days
                case 31...90: .within90Days
                case 91...180: .within180Days
                case 181...365: .within365Days
                default: .longer
                }
        }

        /// `≤30d`, `31-90d`, `91-180d`, `181-365d`, `>365d`.
        public var label: String {
            ["≤30d", "31-90d", "91-180d", "181-365d", ">365d"][rawValue]
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var recency: Recency
    /// Purchases, 1 to 5; 5 stands for five or more.
    public var frequency: Int
    /// Average order value at or above the grid's threshold.
    public var highValue: Bool

    public init(recency: Recency, purchases: Int, highValue: Bool) {
        self.recency = recency
        frequency = min(max(purchases, 1), 5)
        self.highValue = highValue
    }

    public init(days: Int, purchases: Int, highValue: Bool) {
        self.init(recency: Recency(days: days), purchases: purchases, highValue: highValue)
    }

    /// `5+` for five or more purchases.
    public var frequencyLabel: String { frequency == 5 ? "5+" : "\(frequency)" }

    /// What to send the customers of this cell.
    public var action: GridAction {
        switch (recency, frequency) {
        case (.within30Days, 1): .newCustomerOffer
        case (.within30Days, 2): .membershipUpgrade
        case (.within30Days, _): .vipCare
        case (.within90Days, _): .newProducts
        case (_, 3...): .careFirst
        case (.longer, _): .leaveOut
        default: .winBack
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.recency, lhs.frequency, lhs.highValue ? 0 : 1) < (rhs.recency, rhs.frequency, rhs.highValue ? 0 : 1)
    }
}

/// What a grid cell's customers should get.
public enum GridAction: String, Sendable, Hashable, CaseIterable {
    /// Bought once in the last 30 days: an offer for new customers.
    case newCustomerOffer = "new_customer_offer"
    /// Bought twice in the last 30 days: a membership upgrade.
    case membershipUpgrade = "membership_upgrade"
    /// Three or more purchases in the last 30 days: early access, members' care.
    case vipCare = "vip_care"
    /// Last bought 1–3 months ago: new products.
    case newProducts = "new_products"
    /// Last bought more than 3 months ago with 3 or more purchases: care first, marketing later.
    case careFirst = "care_first"
    /// Last bought 3–12 months ago, once or twice: a win-back offer.
    case winBack = "win_back"
    /// Once or twice, more than a year ago: lost; leave them out.
    case leaveOut = "leave_out"
}
