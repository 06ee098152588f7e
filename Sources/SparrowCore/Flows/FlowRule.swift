/// A lifecycle flow's rule: which order event starts it, what it waits for, what cancels it, and the messages it
/// sends.
///
/// ```yaml
/// - name: unpaid-first
///   on: created
///   cancel: [paid, closed]
///   after: 30m
///   text: "{{name}}，您的订单{{order}}还未付款，库存有限，请尽快支付哦"
///   deadline: { close_after: 24h, if_quiet: send-before }
/// ```
public struct FlowRule: Sendable {
    /// Whether a message serves the order (a shipping notice) or sells (an upsell): marketing messages keep to the
    /// marketing hours and to one message per customer per 24 hours over flows and campaigns.
    public enum Purpose: String, Sendable, Hashable, CaseIterable {
        case transactional, marketing
    }

    /// Who gets the messages.
    public enum Recipient: Sendable, Hashable {
        /// The order's buyer (its `phone` field).
        case buyer
        /// A fixed number, the shop owner's: an alert about the order instead of a message to the buyer.
        case number(String)
    }

    /// What one run of the rule is: once per order, or once per customer and day (an upsell on the day's total).
    public enum Once: String, Sendable, Hashable, CaseIterable {
        case order
        case customerDay = "customer-day"
    }

    /// What a rule does when quiet hours would hold a message until after its order closes.
    public enum DeadlineAction: String, Sendable, Hashable, CaseIterable {
        /// Send it just before the quiet hours begin, if that is still `earliest` after the trigger.
        case sendBefore = "send-before"
        /// Skip it, with the reason.
        case skip
    }

    /// When the order stops being worth a message (an unpaid order's automatic close), and what to do about quiet
    /// hours that reach past it.
    public struct Deadline: Sendable, Hashable {
        /// The deadline after the order's first event, for orders whose events do not say (`closes_at`).
        public var closeAfter: Int64?
        public var action: DeadlineAction
        /// How long after the trigger a message moved before the quiet hours still helps, in seconds.
        public var earliest: Int64

        public init(closeAfter: Int64?, action: DeadlineAction, earliest: Int64) {
            self.closeAfter = closeAfter
            self.action = action
            self.earliest = earliest
        }
    }

    /// One message of the rule, `delay` seconds after the trigger: free text, or a template a provider approved
    /// (whose text, as a customer reads it, is `template`).
    public struct Step: Sendable {
        public var delay: Int64
        public var template: MessageTemplate
        public var approved: ApprovedTemplate?

        public init(delay: Int64, template: MessageTemplate) {
            self.delay = delay
            self.template = template
        }

        public init(delay: Int64, approved: ApprovedTemplate) {
            self.delay = delay
            template = approved.message
            self.approved = approved
        }

        /// What the step sends, as a campaign's message.
        public var message: CampaignMessage { approved.map(CampaignMessage.approved) ?? .text(template) }
    }

    /// Letters, digits and `-`: the rule's campaign is `flow.NAME`.
    public var name: String
    public var trigger: OrderEvent.Kind
    /// All must hold, at the trigger and again just before each message goes.
    public var conditions: [FlowCondition]
    /// Events of these kinds for the order cancel what is still pending.
    public var cancelledBy: Set<OrderEvent.Kind>
    /// A later order by the same customer (the same number) cancels what is still pending: repurchase reminders.
    public var cancelledByLaterOrder: Bool
    /// Any later event of the order cancels what is still pending.
    public var cancelledByAnyEvent = false
    public var steps: [Step]
    public var purpose: Purpose
    public var recipient: Recipient
    public var once: Once
    public var deadline: Deadline?
    /// The most segments a message may take, its `|fit` variables shortened to fit; nil for no limit.
    public var maxSegments: Int?
    /// For a `birthday` rule: the customers file its daily pass reads, and when in the day it runs.
    public var birthdays: Birthdays?

    /// A birthday rule's daily pass: each day at `at` (the store's time), the customers of `path` (CSV or JSON
    /// Lines with a `birthday` column, `MM-DD` or `YYYY-MM-DD`) born on that day get a `birthday` event.
    public struct Birthdays: Sendable, Hashable {
        public var path: String
        public var at: WallTime

        public init(path: String, at: WallTime) {
            self.path = path
            self.at = at
        }

        /// Whether `text` (`MM-DD`, `YYYY-MM-DD`, `YYYY/M/D`) is a birthday on `month`-`day`: 29 February counts on
        /// 28 February in a year without one.
        public static func falls(_ text: String, month: Int, day: Int, leapYear: Bool) -> Bool {
            let parts = text.split(whereSeparator: { $0 == "-" || $0 == "/" }).compactMap { Int($0) }
            guard parts.count == 2 || parts.count == 3 else { return false }
            let (born, bornDay) = (parts[parts.count - 2], parts[parts.count - 1])
            if born == month, bornDay == day { return true }
            return !leapYear && born == 2 && bornDay == 29 && month == 2 && day == 28
        }
    }

    public init(
        name: String, trigger: OrderEvent.Kind, conditions: [FlowCondition] = [],
        cancelledBy: Set<OrderEvent.Kind> = [], cancelledByLaterOrder: Bool = false, steps: [Step],
        purpose: Purpose = .transactional, recipient: Recipient = .buyer, once: Once = .order,
        deadline: Deadline? = nil, maxSegments: Int? = nil
    ) {
        self.name = name
        self.trigger = trigger
        self.conditions = conditions
        self.cancelledBy = cancelledBy
        self.cancelledByLaterOrder = cancelledByLaterOrder
        self.steps = steps
        self.purpose = purpose
        self.recipient = recipient
        self.once = once
        self.deadline = deadline
        self.maxSegments = maxSegments
    }

    /// The campaign its messages are journaled under.
    public var campaign: String { Self.campaign(of: name) }

    /// The approved template the rule sends, when it sends one (a rule sends one, or free text).
    public var approved: ApprovedTemplate? { steps.first?.approved }

    public static func campaign(of rule: String) -> String { "flow.\(rule)" }

    /// Whether a rule's name is usable: 1 to 48 ASCII letters, digits or `-`, which make a valid campaign id after
    /// `flow.`.
    public static func isValidName(_ name: String) -> Bool {
        name.utf8.count <= 48 && MessageID.isValidCampaign(name)
            && !name.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") }
    }

    /// Whether an order's events cancel what the rule set for it at `trigger`.
    public func isCancelled(_ order: FlowOrder, since trigger: Timestamp) -> Bool {
        cancelledBy.contains { order.hasSeen($0) } || (cancelledByAnyEvent && order.lastAt > trigger)
    }

    /// The deadline of `order`, if the rule has one: its `closes_at`, or `closeAfter` after its first event.
    public func deadline(of order: FlowOrder) -> Timestamp? {
        guard let deadline else { return nil }
        return order.closesAt ?? deadline.closeAfter.map { order.firstAt + $0 }
    }
}

/// A condition over an order, checked when the rule is triggered and again before each message.
public enum FlowCondition: Sendable, Hashable {
    /// The order's amount lies in the range.
    case amount(ClosedRange<Double>)
    /// The customer's orders of the day (the trigger's day, in the store's zone) add up to an amount in the range;
    /// closed orders do not count.
    case dayTotal(ClosedRange<Double>)
    /// The field holds the text (`items` containing `女`).
    case contains(field: String, text: String)
    /// The field is exactly the value (`rating` is `bad`).
    case equals(field: String, value: String)

    /// Whether `order` meets it; `dayTotal` is the customer's total of the day, for `dayTotal` conditions.
    public func holds(for order: FlowOrder, dayTotal: Double?) -> Bool {
        switch self {
        case .amount(let range): order.amount.map(range.contains) ?? false
        case .dayTotal(let range): dayTotal.map(range.contains) ?? false
        case .contains(let field, let text): order.fields[field]?.contains(text) ?? false
        case .equals(let field, let value): order.fields[field] == value
        }
    }
}

extension FlowRule {
    /// Whether the rule needs the customer's total of the day.
    public var needsDayTotal: Bool {
        conditions.contains { if case .dayTotal = $0 { true } else { false } }
    }

    /// Whether `order` meets every condition.
    public func matches(_ order: FlowOrder, dayTotal: Double?) -> Bool {
        conditions.allSatisfy { $0.holds(for: order, dayTotal: dayTotal) }
    }
}

/// A flow's pending (or settled) message: the durable timer that fires it, one per rule, run and step.
public struct FlowTimer: Sendable, Hashable {
    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Waiting for its time.
        case pending
        /// Its message was journaled (and went, or goes, through the journal as a campaign's message does).
        case sent
        /// An event cancelled it before its time.
        case cancelled
        /// Its time came and it was not sent, for `reason`.
        case skipped
    }

    /// Its row, also its message's line in the rule's campaign.
    public var id: Int
    public var rule: String
    /// The run it belongs to: the order (`source:id`), or the customer and day.
    public var key: String
    public var step: Int
    public var source: String
    public var order: String
    /// When the rule was triggered.
    public var trigger: Timestamp
    public var dueAt: Timestamp
    public var state: State
    public var reason: String?

    public init(
        id: Int, rule: String, key: String, step: Int, source: String, order: String, trigger: Timestamp,
        dueAt: Timestamp, state: State, reason: String? = nil
    ) {
        self.id = id
        self.rule = rule
        self.key = key
        self.step = step
        self.source = source
        self.order = order
        self.trigger = trigger
        self.dueAt = dueAt
        self.state = state
        self.reason = reason
    }
}

/// What `sparrow flows status` shows.
public struct FlowStatus: Sendable, Hashable {
    public struct Count: Sendable, Hashable {
        public var rule: String
        public var state: FlowTimer.State
        public var reason: String?
        public var count: Int

        public init(rule: String, state: FlowTimer.State, reason: String?, count: Int) {
            self.rule = rule
            self.state = state
            self.reason = reason
            self.count = count
        }
    }

    public var counts: [Count]
    /// The next pending timers, the soonest first.
    public var next: [FlowTimer]
    public var events: Int
    public var orders: Int

    public init(counts: [Count], next: [FlowTimer], events: Int, orders: Int) {
        self.counts = counts
        self.next = next
        self.events = events
        self.orders = orders
    }
}
