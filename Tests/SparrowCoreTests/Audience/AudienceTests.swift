import SparrowCore
import Testing

@Suite struct RFMTests {
    /// Every one of the 25 (R, F) pairs falls in the segment the usual table gives it.
    @Test func eachScorePairHasItsSegment() {
        let table: [RFMSegment: Set<[Int]>] = [
            .champions: [[5, 4], [5, 5]],
            .loyal: [[3, 4], [3, 5], [4, 4], [4, 5]],
            .potentialLoyalists: [[4, 2], [4, 3], [5, 2], [5, 3]],
            .new: [[5, 1]],
            .promising: [[4, 1]],
            .needAttention: [[3, 3]],
            .aboutToSleep: [[3, 1], [3, 2]],
            .atRisk: [[1, 3], [1, 4], [2, 3], [2, 4]],
            .cantLose: [[1, 5], [2, 5]],
            .hibernating: [[1, 1], [1, 2], [2, 1], [2, 2]],
        ]
        #expect(table.values.reduce(0) { $0 + $1.count } == 25)
        for (segment, pairs) in table {
            for pair in pairs {
                #expect(RFMSegment(recency: pair[0], frequency: pair[1]) == segment, "\(pair)")
            }
        }
    }

    /// Ten values 1…10 score two to a quintile; equal values share the score of the first of them.
    @Test func quintilesRankThePopulationAndTiesShareAScore() {
        let scale = QuintileScale((1...10).map { Int64($0) })
        #expect((1...10).map { scale.score(Int64($0)) } == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        let tied = QuintileScale([1, 1, 1, 1, 1, 1, 2, 2, 3, 9] as [Int64])
        #expect([1, 2, 3, 9].map { tied.score($0) } == [1, 4, 5, 5])
        #expect(QuintileScale([Int64]()).score(7) == 3)
    }
}

@Suite struct AudienceTests {
    static let now = Timestamp(rfc3339: "2026-12-01T00:00:00Z")!

    func order(_ customer: String, _ id: String, paidDaysAgo: Int64, amount: Int64, state: OrderState = .completed)
        -> Order
    {
        Order(
            id: id, customer: customer, phone: "1380013800\(customer.count)", created: Self.now + -paidDaysAgo * 86_400,
            paid: state == .unpaid ? nil : Self.now + -paidDaysAgo * 86_400, state: state,
            amount: Money(minorUnits: amount), items: ["item \(id)"])
    }

    /// A customer's R, F, M, AOV, first and last purchase and last item come from their purchases only: refunded
    /// and unpaid orders count for nothing, and a customer with nothing bought is not scored.
    @Test func historiesCountPurchasesOnly() {
        var book = CustomerBook()
        book.add(order("ann", "1", paidDaysAgo: 40, amount: 10_000))
        book.add(order("ann", "2", paidDaysAgo: 10, amount: 5_000))
        book.add(order("ann", "3", paidDaysAgo: 5, amount: 90_000, state: .refunded))
        book.add(order("bob", "4", paidDaysAgo: 2, amount: 1_000, state: .unpaid))
        let audience = Audience(book, now: Self.now)
        #expect(book.orders == 4)
        #expect(audience.unscored == 1)
        let ann = try! #require(audience.members.first)
        #expect(ann.history.purchases == 2)
        #expect(ann.history.spent == Money(minorUnits: 15_000))
        #expect(ann.history.averageOrderValue == Money(minorUnits: 7_500))
        #expect(ann.recencyDays == 10)
        #expect(ann.history.firstPurchase == Self.now + -40 * 86_400)
        #expect(ann.history.lastItem == "item 2")
        #expect(ann.cell == GridCell(days: 10, purchases: 2, highValue: true))
        #expect(ann.cell.action == .membershipUpgrade)
    }

    /// Five customers spending 1…5 score M 1…5; the recent score high on R; the median AOV splits the grid.
    @Test func scoresAndGrid() {
        var book = CustomerBook()
        for (index, customer) in ["a", "b", "c", "d", "e"].enumerated() {
            for purchase in 0...index {
                book.add(
                    order(customer, "\(customer)\(purchase)", paidDaysAgo: Int64(400 - index * 90), amount: 100))
            }
        }
        let audience = Audience(book, now: Self.now)
        let byCustomer = Dictionary(uniqueKeysWithValues: audience.members.map { ($0.history.customer, $0) })
        #expect(["a", "b", "c", "d", "e"].map { byCustomer[$0]!.scores.monetary } == [1, 2, 3, 4, 5])
        #expect(["a", "b", "c", "d", "e"].map { byCustomer[$0]!.scores.recency } == [1, 2, 3, 4, 5])
        #expect(["a", "b", "c", "d", "e"].map { byCustomer[$0]!.scores.frequency } == [1, 2, 3, 4, 5])
        #expect(byCustomer["e"]!.segment == .champions)
        #expect(byCustomer["a"]!.segment == .hibernating)
        #expect(audience.members.map(\.history.customer) == ["e", "d", "c", "b", "a"])  // most spent first
        #expect(audience.aovThreshold == Money(minorUnits: 100))
        #expect(
            audience.grid == [
                GridCell(days: 400, purchases: 1, highValue: true): 1,
                GridCell(days: 310, purchases: 2, highValue: true): 1,
                GridCell(days: 220, purchases: 3, highValue: true): 1,
                GridCell(days: 130, purchases: 4, highValue: true): 1,
                GridCell(days: 40, purchases: 5, highValue: true): 1,
            ])
    }

    @Test(arguments: [
        (30, 1, GridAction.newCustomerOffer), (30, 2, .membershipUpgrade), (12, 4, .vipCare), (31, 1, .newProducts),
        (90, 7, .newProducts), (91, 3, .careFirst), (400, 5, .careFirst), (180, 2, .winBack), (365, 1, .winBack),
        (366, 2, .leaveOut),
    ])
    func eachCellHasItsAction(days: Int, purchases: Int, action: GridAction) {
        #expect(GridCell(days: days, purchases: purchases, highValue: false).action == action)
    }
}
