import SparrowCore
import Testing

@Suite struct IntervalTests {
    /// Wilson's interval, as Newcombe (1998) tabulates it for 81 of 263.
    @Test func wilsonsIntervalForAProportion() {
        let interval = Interval.wilson(81, of: 263)
        #expect(abs(interval.lower - 0.2553) < 5e-5 && abs(interval.upper - 0.3662) < 5e-5, "\(interval)")
        #expect(Interval.wilson(0, of: 10).lower == 0)
        #expect(abs(Interval.wilson(10, of: 10).upper - 1) < 1e-12)
    }

    /// Newcombe's method 10 reproduces the six worked examples of his paper (Statistics in Medicine 17, 873–890,
    /// table II), to the four decimals printed there.
    @Test(arguments: [
        (56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090), (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926), (0, 10, 0, 20, -0.1611, 0.2775), (10, 10, 0, 20, 0.6791, 1.0000),
    ])
    func newcombesIntervalForADifference(a: Int, m: Int, b: Int, n: Int, lower: Double, upper: Double) {
        let interval = Interval.difference((a, m), (b, n))
        #expect(abs(interval.lower - lower) < 5e-5 && abs(interval.upper - upper) < 5e-5, "\(interval)")
        #expect(interval.excludesZero == (lower > 0 || upper < 0))
    }

    @Test func welchsIntervalForADifferenceOfMeans() {
        var a = Interval.Moments()
        var b = Interval.Moments()
        for value in [2.0, 4, 6, 8] { a.add(value) }  // mean 5, variance 20/3
        for value in [1.0, 3] { b.add(value) }  // mean 2, variance 2
        let interval = Interval.meanDifference(a, b)
        let half = 1.959_963_984_540_054 * (20.0 / 3 / 4 + 2.0 / 2).squareRoot()
        #expect(interval.estimate == 3)
        #expect(abs(interval.lower - (3 - half)) < 1e-12 && abs(interval.upper - (3 + half)) < 1e-12)
    }
}

@Suite struct EffectMeasurementTests {
    static let start = Timestamp(rfc3339: "2026-11-22T04:00:00Z")!
    static let day: Int64 = 86_400

    static func recipient(_ national: String, heldOut: Bool = false, reach: EffectRecipient.Reach = .delivered)
        -> EffectRecipient
    {
        EffectRecipient(
            number: PhoneNumber.value(ofE164: "+86" + national), heldOut: heldOut, carrier: "china-mobile",
            sentAt: start, reach: heldOut ? .none : reach, cost: heldOut ? 0 : 0.05)
    }

    static func order(
        _ id: String, _ phone: String, paidAfter seconds: Int64, _ amount: Int64, state: OrderState = .paid
    ) -> Order {
        Order(
            id: id, customer: phone, phone: phone, paid: start + seconds, state: state,
            amount: Money(minorUnits: amount * 100))
    }

    /// A purchase counts when it is paid within the window after the message, by phone however written; a refund,
    /// an unpaid order, one after the window and a stranger's do not. Responders are the delivered buyers.
    @Test func attributesThePurchasesPaidWithinTheWindow() {
        var measurement = EffectMeasurement(
            recipients: [
                Self.recipient("13800138000"), Self.recipient("13800138001", reach: .sent),
                Self.recipient("13800138002", reach: .none), Self.recipient("13800138003", heldOut: true),
                Self.recipient("13800138004", heldOut: true),
            ], window: 3 * Self.day, start: Self.start, region: "CN")
        for order in [
            Self.order("a", "138 0013 8000", paidAfter: 3600, 100),
            Self.order("b", "+86 138-0013-8000", paidAfter: 3 * Self.day, 50),  // the window's last second
            Self.order("c", "13800138000", paidAfter: 3 * Self.day + 1, 70),  // after it
            Self.order("d", "13800138001", paidAfter: 60, 30),  // sent, no receipt: a buyer, not a responder
            Self.order("e", "13800138002", paidAfter: 60, 20, state: .refunded),
            Self.order("f", "13800138003", paidAfter: 7200, 40),  // held out
            Self.order("g", "13800138004", paidAfter: 60, 10, state: .unpaid),
            Self.order("h", "13900000000", paidAfter: 60, 500),  // not a recipient
            Self.order("i", "13800138004", paidAfter: -60, 10),  // before the campaign: history
        ] {
            measurement.add(order)
        }
        let total = measurement.rows()[0]
        #expect(total.dimension == .total)
        #expect(total.sent.recipients == 3 && total.sent.sent == 2 && total.sent.delivered == 1)
        #expect(total.sent.buyers == 2 && total.sent.responders == 1 && total.sent.orders == 3)
        #expect(total.sent.revenue == Money(minorUnits: 18_000))
        #expect(abs(total.sent.cost - 0.10) < 1e-9)
        #expect(total.holdout.recipients == 2 && total.holdout.buyers == 1 && total.holdout.revenue.minorUnits == 4000)
        #expect(measurement.responders == [PhoneNumber.value(ofE164: "+8613800138000")])
        let lift = total.lift!
        #expect(abs(lift.conversion.estimate - (2.0 / 3 - 1.0 / 2)) < 1e-12)
        #expect(abs(lift.buyers.estimate - (2.0 / 3 - 1.0 / 2) * 3) < 1e-9)
        // Revenue per recipient 60.00 against 20.00, over 3 recipients: 120.00 more, for 0.10 of messages.
        #expect(abs(lift.revenue!.estimate - 120) < 1e-9)
        #expect(abs(lift.returnOnCost!.estimate - 1200) < 1e-6)
    }

    /// The rows by segment and grid cell take each customer as they stood when the campaign began: the orders
    /// before it, not the ones it brought.
    @Test func segmentsAreTheCustomersStandingWhenTheCampaignBegan() {
        var measurement = EffectMeasurement(
            recipients: [Self.recipient("13800138000"), Self.recipient("13800138001")], window: 3 * Self.day,
            start: Self.start, region: "CN")
        measurement.add(Self.order("old", "13800138000", paidAfter: -10 * Self.day, 100))
        for index in 0..<5 { measurement.add(Self.order("new\(index)", "13800138001", paidAfter: 60, 100)) }
        let rows = measurement.rows()
        let cells = rows.filter { $0.dimension == .cell }.map(\.key)
        #expect(cells == ["none", "≤30d, 1, high"], "\(cells)")  // the five orders it brought do not count
        let none = rows.first { $0.dimension == .segment && $0.key == "none" }
        #expect(none?.sent.recipients == 1 && none?.sent.buyers == 1 && none?.sent.orders == 5)
        #expect(rows.first { $0.dimension == .carrier }?.key == "china-mobile")
        #expect(rows[0].lift == nil)  // no holdout
    }
}
