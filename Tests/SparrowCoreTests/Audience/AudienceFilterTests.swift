import SparrowCore
import Testing

@Suite struct AudienceFilterTests {
    /// Five customers spending 1…5 × 100 yuan over 1…5 purchases, the most recent the biggest (see AudienceTests).
    static let audience: Audience = {
        var book = CustomerBook()
        let now = Timestamp(rfc3339: "2026-12-01T00:00:00Z")!
        for (index, customer) in ["a", "b", "c", "d", "e"].enumerated() {
            for purchase in 0...index {
                let paid = now + -Int64(400 - index * 90) * 86_400
                book.add(
                    Order(
                        id: "\(customer)\(purchase)", customer: customer, paid: paid, state: .completed,
                        amount: Money(minorUnits: 10_000)))
            }
        }
        return Audience(book, now: now)
    }()

    func admitted(_ text: String) throws -> [String] {
        let filter = try AudienceFilter(text)
        return Self.audience.members.filter(filter.admits).map(\.history.customer).sorted()
    }

    @Test(arguments: [
        ("monetary >= 300", ["c", "d", "e"]),
        ("aov = 100", ["a", "b", "c", "d", "e"]),
        ("frequency > 1 and recency_days < 200", ["d", "e"]),
        ("frequency = 1 or frequency = 5", ["a", "e"]),
        ("not frequency >= 2 or r_score = 5 and f_score = 5", ["a", "e"]),  // `and` binds tighter than `or`
        ("not (frequency >= 2 or r_score = 5)", ["a"]),
        ("segment in [champions, hibernating]", ["a", "b", "e"]),  // b scores R 2, F 2
        ("segment != 'champions' and grid_value = high", ["a", "b", "c", "d"]),
        ("action = leave_out", ["a"]),
        ("grid_recency in ['31-90d', '91-180d']", ["d", "e"]),  // 130 and 40 days
        ("unpaid_orders > 0", []),
        ("bought(within: 100d)", ["e"]),
        ("bought() and not unpaid()", ["a", "b", "c", "d", "e"]),
        ("not bought(within: 200d)", ["a", "b", "c"]),
    ])
    func admitsWhatItSays(_ text: String, expected: [String]) throws {
        #expect(try admitted(text) == expected)
    }

    @Test(arguments: [
        ("aovv > 1", 1, "unknown field 'aovv' (did you mean 'aov'?)"),
        ("aov >", 6, "expected a number"),
        ("aov > high", 7, "expected a number"),
        ("segment in [at_risk, cant_loose]", 22, "'cant_loose' is not a segment (did you mean 'cant_lose'?)"),
        ("segment > 3", 9, "expected =, != or 'in' after 'segment'"),
        ("(aov > 1", 9, "expected ')'"),
        ("aov > 1 aov > 2", 9, "expected 'and', 'or' or the end"),
        ("segment = 'new", 11, "a quote that is never closed"),
        ("aov ~ 1", 5, "unexpected '~'"),
        ("", 1, "expected a field"),
        ("bought('x', within 3d)", 13, "expected 'within:'"),
        ("bought(within: 3w)", 16, "expected a duration in days or hours"),
        ("item has 'x'", 6, "expected 'contains' after 'item'"),
        ("bought('x'", 11, "expected ')'"),
    ])
    func refusesWhatItCannotRead(_ text: String, column: Int, message: String) {
        #expect {
            _ = try AudienceFilter(text)
        } throws: { error in
            guard let error = error as? AudienceFilterError else { return false }
            return error.column == column && error.message.hasPrefix(message)
        }
    }

    /// What customers bought, and left unpaid: only the keywords a filter names are tracked, per customer.
    @Test func boughtItemsAndUnpaidOrders() throws {
        let now = Timestamp(rfc3339: "2026-12-01T00:00:00Z")!
        func order(_ customer: String, _ id: String, daysAgo: Int64, _ item: String, _ state: OrderState = .completed)
            -> Order
        {
            let at = now + -daysAgo * 86_400
            return Order(
                id: id, customer: customer, created: at, paid: state == .unpaid ? nil : at, state: state,
                amount: Money(minorUnits: 100), items: [item])
        }
        let filters = try [
            "bought('外套', within: 365d)", "item contains '女'", "unpaid(within: 30d) and not paid_after_unpaid",
            "unpaid(within: 30d) and paid_after_unpaid", "bought('外套') and bought('女', within: 24h)",
        ].map { try AudienceFilter($0) }
        #expect(filters[4].keywords == ["外套", "女"])
        var results: [[String]] = []
        for filter in filters {
            var book = CustomerBook(keywords: filter.keywords)
            book.add(order("ann", "1", daysAgo: 400, "女士羊毛外套"))  // a coat, over a year ago
            book.add(order("bob", "2", daysAgo: 100, "男士外套"))
            book.add(order("bob", "3", daysAgo: 10, "围巾", .unpaid))
            book.add(order("cy", "4", daysAgo: 20, "保温杯", .unpaid))
            book.add(order("cy", "5", daysAgo: 5, "女款手套"))
            let audience = Audience(book, now: now)
            results.append(audience.members.filter(filter.admits).map(\.history.customer).sorted())
        }
        #expect(results == [["bob"], ["ann", "cy"], ["bob"], ["cy"], []])
    }
}

@Suite struct AudiencePresetTests {
    func admitted(_ preset: String) throws -> [String] {
        let filter = try AudienceFilter(AudiencePreset.condition(preset))
        return AudienceFilterTests.audience.members.filter(filter.admits).map(\.history.customer).sorted()
    }

    /// The five customers of `AudienceFilterTests` last bought 400, 310, 220, 130 and 40 days ago, 1 to 5 times.
    @Test(arguments: [
        ("new-year", ["a", "b", "c", "d", "e"]), ("pre-heat", ["b", "c", "d", "e"]), ("lost", ["a", "b", "c"]),
        ("past-buyers", ["a", "b", "c", "d", "e"]), ("new-customers", []), ("repurchase", ["e"]),
        ("repurchase:100", ["d"]), ("potential-interest", []),
    ])
    func eachPresetIsItsFilter(_ preset: String, expected: [String]) throws {
        #expect(try admitted(preset) == expected)
    }

    /// `hot-item` looks for its word in the titles of the last year's purchases.
    @Test func aHotItemIsFoundInTheTitles() throws {
        let filter = try AudienceFilter(AudiencePreset.condition("hot-item:外套"))
        var book = CustomerBook(keywords: filter.keywords)
        let now = Timestamp(rfc3339: "2026-12-01T00:00:00Z")!
        for (customer, title, daysAgo) in [("a", "女士羊毛外套", 30), ("b", "羊绒围巾", 30), ("c", "男士外套", 400)] {
            book.add(
                Order(
                    id: customer, customer: customer, paid: now + -Int64(daysAgo) * 86_400, state: .completed,
                    amount: Money(minorUnits: 10_000), items: [title]))
        }
        #expect(Audience(book, now: now).members.filter(filter.admits).map(\.history.customer) == ["a"])
    }

    @Test func aPresetThatDoesNotExistNamesThoseThatDo() {
        #expect(throws: AudienceFilterError.self) { try AudiencePreset.condition("lost-souls") }
        #expect(throws: AudienceFilterError.self) { try AudiencePreset.condition("hot-item") }
        #expect(throws: AudienceFilterError.self) { try AudiencePreset.condition("repurchase:soon") }
        do {
            _ = try AudiencePreset.condition("lost-souls")
        } catch {
            #expect(
                error.message
                    == "'lost-souls' is not a preset: \(AudiencePreset.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
    }
}

@Suite struct MarketingFilterTests {
    /// The fields of the marketing history read what the store gave each member; a filter naming one says so.
    @Test func readsTheMarketingHistory() throws {
        var members = AudienceFilterTests.audience.members.sorted { $0.history.customer < $1.history.customer }
        let now = members[0].now
        members[0].marketing = MarketingHistory(received: 4, responded: 0, lastSent: now + -2 * 86_400)  // a
        members[1].marketing = MarketingHistory(received: 2, responded: 1, lastSent: now + -10 * 86_400)  // b
        members[2].marketing = MarketingHistory(received: 1, responded: 1, lastSent: now + -40 * 86_400)  // c
        func admitted(_ text: String) throws -> [String] {
            let filter = try AudienceFilter(text)
            #expect(filter.readsMarketing)
            return members.filter(filter.admits).map(\.history.customer)
        }
        #expect(try admitted("received >= 2") == ["a", "b"])
        #expect(try admitted("response_rate >= 0.5") == ["b", "c"])
        #expect(try admitted("received < 3 or response_rate > 0") == ["b", "c", "d", "e"])  // never sent: d, e
        #expect(try admitted("days_since_marketing > 7") == ["b", "c", "d", "e"])
        #expect(try admitted("responded = 0 and received > 0") == ["a"])
        #expect(try !AudienceFilter("aov > 1").readsMarketing)
    }
}
