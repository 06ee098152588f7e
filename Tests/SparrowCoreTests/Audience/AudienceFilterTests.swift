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
    ])
    func refusesWhatItCannotRead(_ text: String, column: Int, message: String) {
        #expect {
            _ = try AudienceFilter(text)
        } throws: { error in
            guard let error = error as? AudienceFilterError else { return false }
            return error.column == column && error.message.hasPrefix(message)
        }
    }
}
