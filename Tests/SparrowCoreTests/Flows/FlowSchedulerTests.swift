import SparrowCore
import Testing

/// Shanghai is UTC+8 all year: a fixed zone keeps the expected instants readable.
@Suite struct FlowSchedulerTests {
    struct Zones: ZoneRulesProvider {
        func rules(for identifier: String) -> ZoneRules? {
            identifier == "Asia/Shanghai" ? .fixed(identifier, offset: 8 * 3600) : nil
        }
    }

    static let quiet = QuietHours(start: WallTime("21:00")!, end: WallTime("08:00")!)
    static let outsideMarketing = QuietHours(start: WallTime("22:00")!, end: WallTime("08:00")!)
    static let shanghai = ZoneRules.fixed("Asia/Shanghai", offset: 8 * 3600)

    /// `2026-12-01 10:00` in Shanghai.
    static func local(_ text: String) -> Timestamp { Timestamp(rfc3339: text + "+08:00")! }

    static func template(_ text: String) -> MessageTemplate { try! MessageTemplate(text) }

    static let unpaid = FlowRule(
        name: "unpaid", trigger: .created, cancelledBy: [.paid, .closed],
        steps: [.init(delay: 1800, template: template("a")), .init(delay: 6 * 3600, template: template("b"))],
        deadline: .init(closeAfter: 24 * 3600, action: .sendBefore, earliest: 900))

    static func scheduler(_ rules: [FlowRule]) -> FlowScheduler {
        FlowScheduler(
            rules: rules, schedule: FlowSchedule(quietHours: quiet, outsideMarketingHours: outsideMarketing),
            defaultRegion: "CN", defaultTimeZone: "Asia/Shanghai", zones: Zones())
    }

    static func event(_ kind: OrderEvent.Kind, at: Timestamp, order: String = "1", _ fields: [String: String] = [:])
        -> OrderEvent
    {
        OrderEvent(source: "taobao", id: "\(kind)-\(order)-\(at)", order: order, kind: kind, at: at, fields: fields)
    }

    static func order(after events: [OrderEvent]) -> FlowOrder {
        events.reduce(FlowOrder(source: "taobao", id: events[0].order, fields: [:], seen: 0, firstAt: events[0].at)) {
            $0.applying($1)
        }
    }

    @Test func aReminderInTheDaytimeIsDueAfterItsDelay() {
        let schedule = FlowSchedule(quietHours: Self.quiet, outsideMarketingHours: Self.outsideMarketing)
        let created = Self.local("2026-12-01 10:00:00")
        #expect(
            schedule.time(
                for: Self.unpaid, due: created + 1800, trigger: created, deadline: created + 86_400, zone: Self.shanghai
            )
                == .success(Self.local("2026-12-01 10:30:00")))
    }

    @Test func quietHoursHoldAReminderTillMorningWhileTheOrderIsStillOpen() {
        let schedule = FlowSchedule(quietHours: Self.quiet, outsideMarketingHours: Self.outsideMarketing)
        let created = Self.local("2026-12-01 20:50:00")
        #expect(
            schedule.time(
                for: Self.unpaid, due: created + 1800, trigger: created, deadline: created + 86_400, zone: Self.shanghai
            )
                == .success(Self.local("2026-12-02 08:00:00")))
    }

    @Test func aReminderQuietHoursWouldHoldPastTheCloseGoesBeforeThemOrIsSkipped() {
        let schedule = FlowSchedule(quietHours: Self.quiet, outsideMarketingHours: Self.outsideMarketing)
        let created = Self.local("2026-12-01 20:30:00")
        let closes = Self.local("2026-12-02 02:00:00")  // a flash sale's short close
        // Due 21:00, quiet till 08:00, after the close: sent at 20:59, 29 minutes after the order.
        #expect(
            schedule.time(
                for: Self.unpaid, due: created + 1800, trigger: created, deadline: closes, zone: Self.shanghai)
                == .success(Self.local("2026-12-01 20:59:00")))
        // Ordered at 20:50: 20:59 is only 9 minutes later, less than the rule's 15.
        let late = Self.local("2026-12-01 20:50:00")
        #expect(
            schedule.time(for: Self.unpaid, due: late + 1800, trigger: late, deadline: closes, zone: Self.shanghai)
                == .failure(.quietUntilDeadline))
        var skipping = Self.unpaid
        skipping.deadline?.action = .skip
        #expect(
            schedule.time(for: skipping, due: created + 1800, trigger: created, deadline: closes, zone: Self.shanghai)
                == .failure(.quietUntilDeadline))
        // Due after the close itself.
        #expect(
            schedule.time(
                for: Self.unpaid, due: created + 6 * 3600, trigger: created, deadline: closes, zone: Self.shanghai)
                == .failure(.afterDeadline))
    }

    @Test func marketingKeepsToItsHoursAndServiceMessagesDoNot() {
        let schedule = FlowSchedule(quietHours: nil, outsideMarketingHours: Self.outsideMarketing)
        var upsell = FlowRule(name: "upsell", trigger: .paid, steps: [.init(delay: 360, template: Self.template("x"))])
        let paid = Self.local("2026-12-01 21:58:00")
        #expect(
            schedule.time(for: upsell, due: paid + 360, trigger: paid, deadline: nil, zone: Self.shanghai)
                == .success(paid + 360))
        upsell.purpose = .marketing
        #expect(
            schedule.time(for: upsell, due: paid + 360, trigger: paid, deadline: nil, zone: Self.shanghai)
                == .success(Self.local("2026-12-02 08:00:00")))
    }

    @Test func anEventSetsATimerPerStepAndAPaymentCancelsThem() {
        let scheduler = Self.scheduler([Self.unpaid])
        let created = Self.event(.created, at: Self.local("2026-12-01 10:00:00"), ["phone": "13800138001"])
        let timers = scheduler.timers(for: created, order: Self.order(after: [created]), dayTotal: { _, _, _ in 0 })
        #expect(timers.map(\.dueAt) == [Self.local("2026-12-01 10:30:00"), Self.local("2026-12-01 16:00:00")])
        #expect(timers.allSatisfy { $0.state == .pending && $0.key == "taobao:1" })
        #expect(timers.map(\.step) == [0, 1])

        let paid = Self.event(.paid, at: Self.local("2026-12-01 10:20:00"))
        #expect(scheduler.cancellations(by: paid).order == ["unpaid"])
        // A payment the store learned of before its timer fired cancels it then too.
        let decision = scheduler.decide(
            timers[0], order: Self.order(after: [created, paid]), now: timers[0].dueAt, facts: .init())
        guard case .cancel("paid event") = decision else { Issue.record("\(decision)"); return }
    }

    @Test func aTimerFiresOnlyWhatStillHolds() {
        var rule = Self.unpaid
        rule.conditions = [.amount(1...79)]
        let scheduler = Self.scheduler([rule])
        let created = Self.event(
            .created, at: Self.local("2026-12-01 10:00:00"), ["phone": "13800138001", "amount": "59"])
        let timer = scheduler.timers(for: created, order: Self.order(after: [created]), dayTotal: { _, _, _ in 0 })[0]
        guard
            case .send(_, _, "13800138001") = scheduler.decide(
                timer, order: Self.order(after: [created]), now: timer.dueAt, facts: .init())
        else { Issue.record("not sent"); return }
        // The price went up since: the rule's condition no longer holds.
        let modified = Self.event(.updated, at: Self.local("2026-12-01 10:10:00"), ["amount": "99"])
        guard
            case .skip("conditions-unmet") = scheduler.decide(
                timer, order: Self.order(after: [created, modified]), now: timer.dueAt, facts: .init())
        else { Issue.record("not skipped"); return }
        // No number: skipped with the reason.
        let anonymous = Self.event(.created, at: created.at, ["amount": "59"])
        guard
            case .skip("no-number") = scheduler.decide(
                timer, order: Self.order(after: [anonymous]), now: timer.dueAt, facts: .init())
        else { Issue.record("sent without a number"); return }
        // Due in quiet hours (a restart after a night down): held till morning.
        guard
            case .postpone(let morning) = scheduler.decide(
                timer, order: Self.order(after: [created]), now: Self.local("2026-12-01 23:00:00"), facts: .init())
        else { Issue.record("sent at night"); return }
        #expect(morning == Self.local("2026-12-02 08:00:00"))
    }

    @Test func aDayTotalRuleRunsOncePerCustomerAndDay() {
        let upsell = FlowRule(
            name: "upsell", trigger: .paid, conditions: [.dayTotal(1...79)],
            steps: [.init(delay: 360, template: Self.template("x"))], purpose: .marketing, once: .customerDay)
        let scheduler = Self.scheduler([upsell])
        let paid = Self.event(.paid, at: Self.local("2026-12-01 23:30:00"), ["phone": "13800138001"])
        var asked: (Timestamp, Timestamp)?
        let timers = scheduler.timers(for: paid, order: Self.order(after: [paid])) { phone, from, to in
            asked = (from, to)
            return phone == "13800138001" ? 59 : 0
        }
        #expect(asked?.0 == Self.local("2026-12-01 00:00:00"))
        #expect(asked?.1 == Self.local("2026-12-02 00:00:00"))
        #expect(timers.map(\.key) == ["13800138001:2026-12-01"])
        #expect(
            scheduler.timers(for: paid, order: Self.order(after: [paid]), dayTotal: { _, _, _ in 80 }).isEmpty)
    }

    @Test func aLaterOrderCancelsARepurchaseReminder() {
        let repurchase = FlowRule(
            name: "repurchase", trigger: .completed, cancelledByLaterOrder: true,
            steps: [.init(delay: 30 * 86_400, template: Self.template("x"))], purpose: .marketing)
        let scheduler = Self.scheduler([repurchase])
        #expect(
            scheduler.cancellations(by: Self.event(.created, at: Self.local("2026-12-05 10:00:00"))).laterOrder == [
                "repurchase"
            ])
        #expect(
            scheduler.cancellations(by: Self.event(.paid, at: Self.local("2026-12-05 10:00:00"))).laterOrder.isEmpty)
        let done = Self.event(.completed, at: Self.local("2026-12-01 10:00:00"), ["phone": "13800138001"])
        let timer = scheduler.timers(for: done, order: Self.order(after: [done]), dayTotal: { _, _, _ in 0 })[0]
        guard
            case .cancel("later-order") = scheduler.decide(
                timer, order: Self.order(after: [done]), now: timer.dueAt, facts: .init(laterOrder: true))
        else { Issue.record("not cancelled"); return }
    }

    @Test func anAlertGoesToTheRulesNumber() {
        let alert = FlowRule(
            name: "bad-review", trigger: .rated, conditions: [.equals(field: "rating", value: "bad")],
            steps: [.init(delay: 0, template: Self.template("x"))], recipient: .number("+8613900000000"))
        let scheduler = Self.scheduler([alert])
        let good = Self.event(.rated, at: Self.local("2026-12-01 10:00:00"), ["rating": "good"])
        #expect(scheduler.timers(for: good, order: Self.order(after: [good]), dayTotal: { _, _, _ in 0 }).isEmpty)
        let bad = Self.event(.rated, at: Self.local("2026-12-01 10:00:00"), ["rating": "bad", "phone": "138"])
        let timer = scheduler.timers(for: bad, order: Self.order(after: [bad]), dayTotal: { _, _, _ in 0 })[0]
        guard
            case .send(_, _, "+8613900000000") = scheduler.decide(
                timer, order: Self.order(after: [bad]), now: timer.dueAt, facts: .init())
        else { Issue.record("not to the owner"); return }
    }

    @Test func birthdaysFallOnTheirDayAndLeapDaysOnThe28th() {
        typealias Birthdays = FlowRule.Birthdays
        #expect(Birthdays.falls("1990-12-04", month: 12, day: 4, leapYear: false))
        #expect(Birthdays.falls("12-04", month: 12, day: 4, leapYear: true))
        #expect(Birthdays.falls("1990/12/4", month: 12, day: 4, leapYear: false))
        #expect(!Birthdays.falls("1990-12-04", month: 12, day: 5, leapYear: false))
        #expect(Birthdays.falls("2000-02-29", month: 2, day: 28, leapYear: false))
        #expect(!Birthdays.falls("2000-02-29", month: 2, day: 28, leapYear: true))
        #expect(Birthdays.falls("2000-02-29", month: 2, day: 29, leapYear: true))
        #expect(!Birthdays.falls("soon", month: 2, day: 29, leapYear: true))

        var rule = FlowRule(
            name: "birthday", trigger: .birthday, steps: [.init(delay: 0, template: Self.template("x"))])
        rule.birthdays = .init(path: "customers.csv", at: WallTime("10:00")!)
        let scheduler = Self.scheduler([rule])
        let day = scheduler.localDay(of: Self.local("2026-12-04T23:30:00"))
        let row = RecipientRow(line: 2, values: ["phone": "13800138001", "birthday": "12-04", "name": "甲"])
        let event = scheduler.birthdayEvent(rule: rule, row: row, day: day)
        #expect(event?.at == Self.local("2026-12-04T10:00:00"))
        #expect(event?.order == "13800138001:2026" && event?.kind == .birthday)
        #expect(event?.fields["name"] == "甲")
        #expect(scheduler.birthdayEvent(rule: rule, row: row, day: day + 1) == nil)
        #expect(
            scheduler.birthdayEvent(rule: rule, row: RecipientRow(line: 3, values: ["phone": "138"]), day: day) == nil)
        // The event sets the birthday rule's timer, and another birthday rule's pass would not.
        let order = Self.order(after: [event!])
        #expect(scheduler.timers(for: event!, order: order, dayTotal: { _, _, _ in 0 }).count == 1)
        var other = event!
        other.source = "birthday.other"
        #expect(scheduler.timers(for: other, order: order, dayTotal: { _, _, _ in 0 }).isEmpty)
    }

    @Test func anyLaterEventCancelsWhatTheRuleSet() {
        var abandoned = FlowRule(
            name: "abandoned", trigger: .checkout, steps: [.init(delay: 3600, template: Self.template("x"))],
            purpose: .marketing)
        abandoned.cancelledByAnyEvent = true
        let scheduler = Self.scheduler([abandoned])
        let checkout = Self.event(.checkout, at: Self.local("2026-12-01T10:00:00"), ["phone": "13800138001"])
        let timer = scheduler.timers(for: checkout, order: Self.order(after: [checkout]), dayTotal: { _, _, _ in 0 })[0]
        #expect(timer.state == .pending)
        guard
            case .send = scheduler.decide(
                timer, order: Self.order(after: [checkout]), now: timer.dueAt, facts: .init())
        else { Issue.record("not sent"); return }
        let update = Self.event(.updated, at: Self.local("2026-12-01T10:20:00"))
        #expect(scheduler.cancellations(by: update).order == ["abandoned"])
        guard
            case .cancel("a later event") = scheduler.decide(
                timer, order: Self.order(after: [checkout, update]), now: timer.dueAt, facts: .init())
        else { Issue.record("not cancelled"); return }
    }

    @Test func marketingWaitsADayAfterAnotherAndKeepsToTheFrequencyCap() {
        let now = Self.local("2026-12-10T12:00:00")
        let smart = MarketingCap()
        #expect(smart.allows(at: now, after: []))
        #expect(!smart.allows(at: now, after: [now + -86_399]))
        #expect(smart.allows(at: now, after: [now + -86_400, now + -5 * 86_400]))
        #expect(smart.lookBack == 86_400)
        let weekly = MarketingCap(max: 2, window: 7 * 86_400)
        #expect(weekly.lookBack == 7 * 86_400)
        #expect(weekly.allows(at: now, after: [now + -3 * 86_400]))
        #expect(!weekly.allows(at: now, after: [now + -3 * 86_400, now + -6 * 86_400]))
        #expect(weekly.allows(at: now, after: [now + -3 * 86_400, now + -8 * 86_400]))
    }
}
