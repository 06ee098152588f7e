/// Turns order events into flow timers and decides, when a timer comes due, whether its message still goes: the
/// rules' logic, with no store and no clock (the store's answers and the time come in).
public struct FlowScheduler: Sendable {
    public let rules: [FlowRule]
    public let schedule: FlowSchedule
    private let byName: [String: FlowRule]
    private let defaultRegion: String?
    private let defaultTimeZone: String
    private let zones: any ZoneRulesProvider

    public init(
        rules: [FlowRule], schedule: FlowSchedule, defaultRegion: String?, defaultTimeZone: String,
        zones: any ZoneRulesProvider
    ) {
        self.rules = rules
        self.schedule = schedule
        byName = Dictionary(rules.map { ($0.name, $0) }) { first, _ in first }
        self.defaultRegion = defaultRegion
        self.defaultTimeZone = defaultTimeZone
        self.zones = zones
    }

    public func rule(named name: String) -> FlowRule? { byName[name] }

    /// The rules whose pending timers `event` cancels for its own order, and those it cancels for the same
    /// customer's earlier orders (a later order).
    public func cancellations(by event: OrderEvent) -> (order: Set<String>, laterOrder: Set<String>) {
        let order = Set(rules.filter { $0.cancelledBy.contains(event.kind) || $0.cancelledByAnyEvent }.map(\.name))
        let laterOrder = event.kind == .created ? Set(rules.filter(\.cancelledByLaterOrder).map(\.name)) : []
        return (order, laterOrder)
    }

    /// The rules `event` triggers.
    private func triggered(by event: OrderEvent) -> [FlowRule] {
        rules.filter {
            $0.trigger == event.kind && (event.kind != .birthday || event.source == Self.birthdaySource(of: $0))
        }
    }

    /// The numbers whose totals of the day `timers(for:order:dayTotal:)` asks for, for a store that reads them first.
    public func dayTotalNumbers(for event: OrderEvent, order: FlowOrder) -> Set<String> {
        Set(triggered(by: event).filter(\.needsDayTotal).compactMap { recipient(of: $0, order) })
    }

    /// The timers `event` sets for `order` (the order with the event applied): a timer per step of each rule it
    /// triggers whose conditions hold. A step that cannot be sent before the order's deadline is set as skipped,
    /// with the reason, so that `flows status` tells it; one the order's events cancelled already, as cancelled.
    /// - Parameter dayTotal: the customer's total of the orders placed in a span, for `dayTotal` conditions.
    public func timers(
        for event: OrderEvent, order: FlowOrder, dayTotal: (String, Timestamp, Timestamp) throws -> Double
    ) rethrows -> [FlowTimer] {
        try triggered(by: event).flatMap { rule -> [FlowTimer] in
            let phone = recipient(of: rule, order)
            let zone = self.zone(of: phone)
            let total =
                rule.needsDayTotal
                ? try phone.map { phone in
                    let (from, to) = day(of: event.at, in: zone)
                    return try dayTotal(phone, from, to)
                } ?? 0 : nil
            guard rule.matches(order, dayTotal: total) else { return [] }
            let key: String
            switch rule.once {
            case .order: key = "\(order.source):\(order.id)"
            case .customerDay:
                guard let phone else { return [] }
                key = "\(phone):\(Self.date(event.at, in: zone))"
            }
            let cancelled = rule.isCancelled(order, since: event.at)
            return rule.steps.indices.map { index in
                let due = event.at + rule.steps[index].delay
                var timer = FlowTimer(
                    id: 0, rule: rule.name, key: key, step: index, source: order.source, order: order.id,
                    trigger: event.at, dueAt: due, state: .pending)
                if cancelled {
                    (timer.state, timer.reason) = (.cancelled, "cancelled before it was set")
                } else {
                    switch schedule.time(
                        for: rule, due: due, trigger: event.at, deadline: rule.deadline(of: order), zone: zone)
                    {
                    case .success(let time): timer.dueAt = time
                    case .failure(let skip): (timer.state, timer.reason) = (.skipped, skip.rawValue)
                    }
                }
                return timer
            }
        }
    }

    /// What happens to a timer that came due at `now`, given what the store knows of its order and customer.
    public func decide(_ timer: FlowTimer, order: FlowOrder, now: Timestamp, facts: Facts) -> Decision {
        guard let rule = byName[timer.rule], rule.steps.indices.contains(timer.step) else {
            return .skip(FlowSkip.ruleRemoved.rawValue)
        }
        if rule.isCancelled(order, since: timer.trigger) {
            let kinds = rule.cancelledBy.filter { order.hasSeen($0) }.map(\.rawValue).sorted().joined(separator: ", ")
            return .cancel(kinds.isEmpty ? "a later event" : "\(kinds) event")
        }
        if facts.laterOrder { return .cancel(FlowSkip.laterOrder.rawValue) }
        guard rule.matches(order, dayTotal: facts.dayTotal) else { return .skip(FlowSkip.conditionsUnmet.rawValue) }
        guard let phone = recipient(of: rule, order) else { return .skip(FlowSkip.noNumber.rawValue) }
        switch schedule.time(
            for: rule, due: now, trigger: timer.trigger, deadline: rule.deadline(of: order), zone: zone(of: phone))
        {
        case .failure(let skip): return .skip(skip.rawValue)
        case .success(let time) where time > now: return .postpone(time)
        case .success(let time) where time < now: return .skip(FlowSkip.quietUntilDeadline.rawValue)
        case .success: return .send(rule: rule, step: rule.steps[timer.step], phone: phone)
        }
    }

    /// What the store knows that a due timer's decision needs.
    public struct Facts: Sendable, Hashable {
        /// The customer placed an order after the trigger (only asked for rules a later order cancels).
        public var laterOrder: Bool
        /// The customer's total of the trigger's day (only for rules with a `dayTotal` condition).
        public var dayTotal: Double?

        public init(laterOrder: Bool = false, dayTotal: Double? = nil) {
            self.laterOrder = laterOrder
            self.dayTotal = dayTotal
        }
    }

    public enum Decision: Sendable {
        case send(rule: FlowRule, step: FlowRule.Step, phone: String)
        case skip(String)
        case cancel(String)
        case postpone(Timestamp)
    }

    /// Who gets the rule's messages about `order`: its buyer's number, or the rule's own.
    public func recipient(of rule: FlowRule, _ order: FlowOrder) -> String? {
        switch rule.recipient {
        case .buyer: order.phone
        case .number(let number): number
        }
    }

    /// The zone of a number: its country's, when it has one zone, else the configuration's default.
    public func zone(of phone: String?) -> ZoneRules {
        let region = phone.flatMap { try? PhoneNumberParser.parse($0, defaultRegion: defaultRegion).get().region }
        let identifier = region.flatMap(PhoneRegions.singleTimeZone(forRegion:)) ?? defaultTimeZone
        return zones.rules(for: identifier) ?? zones.rules(for: defaultTimeZone) ?? .fixed("UTC", offset: 0)
    }

    /// The local day holding `instant`, as a span of instants.
    public func day(of instant: Timestamp, in zone: ZoneRules) -> (Timestamp, Timestamp) {
        let local = zone.localSeconds(at: instant)
        let start = local - (local - local.floorDivided(by: 86_400) * 86_400)
        let from = zone.firstInstant(atLocal: start, after: instant + -2 * 86_400)
        let to = zone.firstInstant(atLocal: start + 86_400, after: instant)
        return (from, to)
    }

    /// The local day (days since 1970, in the store's zone) that holds `instant`.
    public func localDay(of instant: Timestamp) -> Int64 {
        zone(of: nil).localSeconds(at: instant).floorDivided(by: 86_400)
    }

    /// When a birthday rule's daily pass runs on the local `day`: its `at`, in the store's zone.
    public func passTime(_ birthdays: FlowRule.Birthdays, day: Int64) -> Timestamp {
        let zone = zone(of: nil)
        let wall = day * 86_400 + birthdays.at.secondOfDay
        return zone.firstInstant(atLocal: wall, after: Timestamp(secondsSince1970: wall - 2 * 86_400))
    }

    /// The birthday event of a customers file's row for `rule` on the local `day`, when it is the customer's
    /// birthday: one per customer and year, at the pass's time, with the row's columns as its fields.
    public func birthdayEvent(rule: FlowRule, row: RecipientRow, day: Int64) -> OrderEvent? {
        guard let birthdays = rule.birthdays, let phone = row.phone, let born = row.values["birthday"] else {
            return nil
        }
        let date = CivilDate(daysSince1970: day)
        let leap = CivilDate.daysIn(month: 2, year: date.year) == 29
        guard FlowRule.Birthdays.falls(born, month: date.month, day: date.day, leapYear: leap) else { return nil }
        var fields = row.values.dictionary
        fields["phone"] = phone
        return OrderEvent(
            source: Self.birthdaySource(of: rule), id: "\(phone):\(date.year)", order: "\(phone):\(date.year)",
            kind: .birthday, at: passTime(birthdays, day: day), fields: fields)
    }

    /// The source of a birthday rule's events: each rule's pass triggers that rule alone.
    static func birthdaySource(of rule: FlowRule) -> String { "birthday.\(rule.name)" }

    /// `2026-12-07`, the local date of `instant`.
    static func date(_ instant: Timestamp, in zone: ZoneRules) -> String {
        let date = CivilDate(daysSince1970: zone.localSeconds(at: instant).floorDivided(by: 86_400))
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(date.year)-\(two(date.month))-\(two(date.day))"
    }
}
