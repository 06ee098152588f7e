/// One order as a store's export records it, in the form every export is read into.
public struct Order: Sendable, Hashable {
    public var id: String
    /// Who placed it: the customer id the export gives (a buyer's nickname, an email), else the phone number.
    public var customer: String
    /// The buyer's phone number as written.
    public var phone: String?
    /// The consignee's name.
    public var name: String?
    /// The buyer's nickname: Taobao's 买家会员名, the generic format's `nickname`.
    public var nickname: String?
    public var created: Timestamp?
    public var paid: Timestamp?
    public var state: OrderState
    /// What the buyer paid, or is to pay.
    public var amount: Money
    /// The titles of the items bought.
    public var items: [String]
    public var categories: [String]

    public init(
        id: String, customer: String, phone: String? = nil, name: String? = nil, nickname: String? = nil,
        created: Timestamp? = nil, paid: Timestamp? = nil, state: OrderState, amount: Money, items: [String] = [],
        categories: [String] = []
    ) {
        self.id = id
        self.customer = customer
        self.phone = phone
        self.name = name
        self.nickname = nickname
        self.created = created
        self.paid = paid
        self.state = state
        self.amount = amount
        self.items = items
        self.categories = categories
    }

    /// A purchase: paid, and neither refunded nor closed since. Only purchases count towards R, F and M.
    public var isPurchase: Bool { state.isPurchase }

    /// When it counts as bought: when it was paid, else when it was placed.
    public var purchased: Timestamp? { paid ?? created }
}

/// Where an order stands, in the terms of the stores' own states (Taobao's in brackets).
public enum OrderState: String, Sendable, Hashable, CaseIterable {
    /// Placed and not paid (WAIT_BUYER_PAY).
    case unpaid
    /// Paid, not shipped yet (WAIT_SELLER_SEND_GOODS).
    case paid
    /// On its way (WAIT_BUYER_CONFIRM_GOODS).
    case shipped
    /// Signed for (TRADE_BUYER_SIGNED).
    case delivered
    /// Confirmed by the buyer (TRADE_FINISHED).
    case completed
    /// Refunded after payment (TRADE_CLOSED).
    case refunded
    /// Closed or cancelled before payment (TRADE_CLOSED_BY_TAOBAO).
    case closed

    public var isPurchase: Bool {
        switch self {
        case .paid, .shipped, .delivered, .completed: true
        case .unpaid, .refunded, .closed: false
        }
    }
}

/// An amount of money in the smallest unit of its currency (fen, cents), so that sums are exact.
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var minorUnits: Int64

    public init(minorUnits: Int64) {
        self.minorUnits = minorUnits
    }

    public static let zero = Money(minorUnits: 0)

    /// Reads an amount as exports write it: `120`, `120.5`, `1,234.50`, `120.00元`, `¥120`, `$12.50`, `'88.00`.
    /// Nil for anything else: a negative amount, more than two decimals, other text.
    public init?(_ text: some StringProtocol) {
        var units: Int64 = 0
        var decimals: Int?
        var digits = 0
        for scalar in text.unicodeScalars {
            switch scalar {
            case "0"..."9":
                guard decimals.map({ $0 < 2 }) ?? true, digits < 16 else { return nil }
                units = units * 10 + Int64(scalar.value - 48)
                digits += 1
                if let places = decimals { decimals = places + 1 }
            case ".":
                guard decimals == nil, digits > 0 else { return nil }
                decimals = 0
            case ",", " ", "\t":
                guard decimals == nil else { return nil }
            case "元", "¥", "￥", "$", "'":
                continue
            default:
                return nil
            }
        }
        guard digits > 0 else { return nil }
        for _ in (decimals ?? 0)..<2 { units *= 10 }
        minorUnits = units
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.minorUnits < rhs.minorUnits }
    public static func + (lhs: Money, rhs: Money) -> Money { Money(minorUnits: lhs.minorUnits + rhs.minorUnits) }

    /// `1234.50`: two decimals, no separators.
    public var description: String {
        let whole = minorUnits / 100
        let cents = abs(minorUnits % 100)
        return "\(minorUnits < 0 && whole == 0 ? "-" : "")\(whole).\(cents < 10 ? "0" : "")\(cents)"
    }
}
