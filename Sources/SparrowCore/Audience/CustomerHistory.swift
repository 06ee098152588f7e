/// What one customer's orders say about them: enough for R, F and M and for an audience's columns. Orders are
/// folded in one at a time, in any order, so memory grows with customers, not with orders.
public struct CustomerHistory: Sendable, Hashable {
    /// The customer id the orders gave, or the phone number.
    public let customer: String
    /// The phone number of the latest order that had one, as written.
    public private(set) var phone: String?
    public private(set) var name: String?
    /// The nickname of the latest order that had one.
    public private(set) var nickname: String?
    /// Purchases (paid and not refunded or closed since): F.
    public private(set) var purchases = 0
    /// Their total: M.
    public private(set) var spent = Money.zero
    public private(set) var firstPurchase: Timestamp?
    public private(set) var lastPurchase: Timestamp?
    /// The first item of the latest purchase.
    public private(set) var lastItem: String?
    /// The categories of their purchases, each once, in the order first seen (at most `maxCategories`).
    public private(set) var categories: [String] = []
    /// Orders never paid, and when the latest of them was placed.
    public private(set) var unpaidOrders = 0
    public private(set) var lastUnpaid: Timestamp?
    /// For each keyword of the book's (see `CustomerBook.keywords`), in order, the latest purchase with an item
    /// whose title contains it.
    public private(set) var keywordPurchases: [Timestamp?]

    static let maxCategories = 16
    /// The time of the order the phone and name were taken from: a later order's replace them.
    private var contactAt: Timestamp?

    public init(customer: String, keywords: Int = 0) {
        self.customer = customer
        keywordPurchases = Array(repeating: nil, count: keywords)
    }

    /// Average order value: M / F, rounded down to the minor unit; zero without purchases.
    public var averageOrderValue: Money {
        purchases == 0 ? .zero : Money(minorUnits: spent.minorUnits / Int64(purchases))
    }

    /// Folds `order` in; it must be this customer's. `keywords` are the book's.
    public mutating func add(_ order: Order, keywords: [String] = []) {
        let at = order.purchased
        if order.phone != nil || order.name != nil || order.nickname != nil, isLatestContact(at) {
            phone = order.phone ?? phone
            name = order.name ?? name
            nickname = order.nickname ?? nickname
            contactAt = at ?? contactAt
        }
        if order.isPurchase {
            purchases += 1
            spent = spent + order.amount
            if let at {
                if firstPurchase.map({ at < $0 }) ?? true { firstPurchase = at }
                if lastPurchase.map({ at >= $0 }) ?? true {
                    lastPurchase = at
                    lastItem = order.items.first ?? lastItem
                }
            }
            for category in order.categories where categories.count < Self.maxCategories {
                if !categories.contains(category) { categories.append(category) }
            }
            if let at {
                for (index, keyword) in keywords.enumerated()
                where order.items.contains(where: { $0.contains(keyword) }) {
                    if keywordPurchases[index].map({ at > $0 }) ?? true { keywordPurchases[index] = at }
                }
            }
        } else if order.state == .unpaid {
            unpaidOrders += 1
            if let created = order.created, lastUnpaid.map({ created > $0 }) ?? true { lastUnpaid = created }
        }
    }

    /// Whether an order of time `at` is as late as the one the contact details came from (an order without a time
    /// only fills details still missing).
    private func isLatestContact(_ at: Timestamp?) -> Bool {
        guard let contactAt else { return true }
        guard let at else { return phone == nil || name == nil || nickname == nil }
        return at >= contactAt
    }
}

/// Every customer's history, keyed by customer: orders go in one at a time.
public struct CustomerBook: Sendable {
    public private(set) var histories: [String: CustomerHistory] = [:]
    /// Orders folded in.
    public private(set) var orders = 0
    /// The words looked for in each purchase's items, for a filter's `bought('…')`: tracked only when named, so
    /// that memory stays with customers × keywords.
    public let keywords: [String]

    public init(keywords: [String] = []) {
        self.keywords = keywords
    }

    public mutating func add(_ order: Order) {
        orders += 1
        histories[order.customer, default: CustomerHistory(customer: order.customer, keywords: keywords.count)].add(
            order, keywords: keywords)
    }
}
