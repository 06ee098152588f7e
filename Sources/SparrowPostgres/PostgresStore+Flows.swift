import PostgresNIO
public import SparrowCore
public import SparrowStore

// Lifecycle flows on PostgreSQL: order events, orders and the durable timers of their messages, as SQLite's store
// keeps them. Several processes may share them: events are taken one transaction at a time over all processes, and
// a due timer is settled, and its message journaled, by one of them only.
extension PostgresStore: FlowStore {
    /// The flows' tables (migration 5), SQLite's as of its v18.
    static let flows = [
        """
        CREATE TABLE sparrow_flow_event (
            source text NOT NULL, id text NOT NULL, order_id text NOT NULL, kind text NOT NULL, at bigint NOT NULL,
            PRIMARY KEY (source, id))
        """,
        """
        CREATE TABLE sparrow_flow_order (
            source text NOT NULL, id text NOT NULL, fields text NOT NULL, seen bigint NOT NULL,
            first_at bigint NOT NULL, last_at bigint NOT NULL, phone text, amount double precision, closed boolean NOT NULL,
            PRIMARY KEY (source, id))
        """,
        "CREATE INDEX sparrow_flow_order_phone ON sparrow_flow_order (phone, first_at)",
        """
        CREATE TABLE sparrow_flow_timer (
            id bigint PRIMARY KEY, rule text NOT NULL, key text NOT NULL,
            step bigint NOT NULL, source text NOT NULL, order_id text NOT NULL, trigger bigint NOT NULL,
            due_at bigint NOT NULL, state text NOT NULL, reason text, message_id text, updated_at bigint NOT NULL,
            UNIQUE (rule, key, step))
        """,
        "CREATE INDEX sparrow_flow_timer_pending ON sparrow_flow_timer (due_at) WHERE state = 'pending'",
        "CREATE INDEX sparrow_flow_timer_order ON sparrow_flow_timer (source, order_id)",
        "CREATE TABLE sparrow_flow_pass (rule text PRIMARY KEY, day bigint NOT NULL)",
    ]

    /// The advisory lock that takes events one transaction at a time over every process: an order's state is read,
    /// changed and written back, and timers are set against other orders of the same number. It also numbers the
    /// timers: each takes the next number after the highest, in the transaction that sets it, so the same events
    /// number them alike however often a crash cut an ingest short. A timer's message's id comes from its number,
    /// and is the gateway's idempotency key (a sequence would skip the numbers of rolled-back and conflicting
    /// inserts).
    private static let eventLock: Int64 = 737_028

    public func ingest(_ events: ArraySlice<OrderEvent>, scheduler: FlowScheduler, stopAtDue: Bool) async throws
        -> [FlowOrder?]
    {
        try await database.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.eventLock))", logger: database.logger)
            var due: Int64?
            if stopAtDue {
                for try await earliest in try await connection.query(
                    "SELECT min(due_at) FROM sparrow_flow_timer WHERE state = 'pending'", logger: database.logger
                ).decode(Int64?.self) { due = earliest }
            }
            var orders: [FlowOrder?] = []
            for event in events {
                if let due, !orders.isEmpty, event.at.secondsSince1970 >= due { break }
                let order = try await ingest(event, scheduler: scheduler, connection)
                orders.append(order?.order)
                if stopAtDue, let set = order?.earliestDue { due = min(due ?? set, set) }
            }
            return orders
        }
    }

    /// Takes one event (`ingest(_:scheduler:stopAtDue:)`).
    /// - Returns: the order after it, and the earliest of the pending timers it set; nil for an event taken before.
    private func ingest(_ event: OrderEvent, scheduler: FlowScheduler, _ connection: PostgresConnection) async throws
        -> (order: FlowOrder, earliestDue: Int64?)?
    {
        let logger = database.logger
        let taken = try await connection.query(
            """
            INSERT INTO sparrow_flow_event (source, id, order_id, kind, at)
            VALUES (\(event.source), \(event.id), \(event.order), \(event.kind.rawValue), \(event.at.secondsSince1970))
            ON CONFLICT DO NOTHING RETURNING id
            """, logger: logger
        ).collect()
        guard !taken.isEmpty else { return nil }
        var earlier: FlowOrder?
        for try await (fields, seen, firstAt, lastAt) in try await connection.query(
            """
            SELECT fields, seen, first_at, last_at FROM sparrow_flow_order
            WHERE source = \(event.source) AND id = \(event.order)
            """, logger: logger
        ).decode((String, Int, Int64, Int64).self) {
            earlier = FlowOrder(
                source: event.source, id: event.order, fields: FlowOrder.fields(stored: fields), seen: seen,
                firstAt: Timestamp(secondsSince1970: firstAt), lastAt: Timestamp(secondsSince1970: lastAt))
        }
        let order =
            (earlier ?? FlowOrder(source: event.source, id: event.order, fields: [:], seen: 0, firstAt: event.at))
            .applying(event)
        try await connection.query(
            """
            INSERT INTO sparrow_flow_order (source, id, fields, seen, first_at, last_at, phone, amount, closed)
            VALUES (
                \(order.source), \(order.id), \(order.storedFields), \(order.seen), \(order.firstAt.secondsSince1970),
                \(order.lastAt.secondsSince1970), \(order.phone), \(order.amount), \(order.hasSeen(.closed)))
            ON CONFLICT (source, id) DO UPDATE SET fields = excluded.fields, seen = excluded.seen,
                first_at = excluded.first_at, last_at = excluded.last_at, phone = excluded.phone,
                amount = excluded.amount, closed = excluded.closed
            """, logger: logger)
        let at = event.at.secondsSince1970
        let (cancelling, laterOrder) = scheduler.cancellations(by: event)
        if !cancelling.isEmpty {
            try await connection.query(
                """
                UPDATE sparrow_flow_timer SET state = 'cancelled', reason = \("\(event.kind.rawValue) event"),
                    updated_at = \(at)
                WHERE source = \(order.source) AND order_id = \(order.id) AND rule = ANY(\(cancelling.sorted()))
                    AND state = 'pending'
                """, logger: logger)
        }
        if let phone = order.phone, !laterOrder.isEmpty {
            try await connection.query(
                """
                UPDATE sparrow_flow_timer SET state = 'cancelled', reason = \(FlowSkip.laterOrder.rawValue),
                    updated_at = \(at)
                WHERE state = 'pending' AND trigger < \(at) AND rule = ANY(\(laterOrder.sorted()))
                    AND (source, order_id) IN (SELECT source, id FROM sparrow_flow_order WHERE phone = \(phone))
                    AND NOT (source = \(order.source) AND order_id = \(order.id))
                """, logger: logger)
        }
        // The orders of the numbers whose totals of a day the rules look at, read first: the rules ask as they go.
        var spent: [String: [OrderSpend]] = [:]
        for phone in scheduler.dayTotalNumbers(for: event, order: order) {
            spent[phone] = try await orders(of: phone, connection)
        }
        var earliest: Int64?
        let timers = scheduler.timers(for: event, order: order) { phone, from, to in
            OrderSpend.dayTotal(spent[phone] ?? [], from: from, to: to)
        }
        for timer in timers {
            let inserted = try await connection.query(
                """
                INSERT INTO sparrow_flow_timer (id, rule, key, step, source, order_id, trigger, due_at, state, reason,
                    updated_at)
                SELECT coalesce(max(id), 0) + 1, \(timer.rule), \(timer.key), \(timer.step), \(timer.source),
                    \(timer.order), \(timer.trigger.secondsSince1970), \(timer.dueAt.secondsSince1970),
                    \(timer.state.rawValue), \(timer.reason), \(at)
                FROM sparrow_flow_timer
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger
            ).collect()
            if timer.state == .pending, !inserted.isEmpty {
                earliest = min(earliest ?? timer.dueAt.secondsSince1970, timer.dueAt.secondsSince1970)
            }
        }
        return (order, earliest)
    }

    public func dueFlowTimers(by now: Timestamp, limit: Int) async throws -> [DueFlowTimer] {
        try await database.connection { connection in
            var due: [DueFlowTimer] = []
            for try await row in try await connection.query(
                """
                SELECT \(unescaped: Self.timerColumns), o.fields, o.seen, o.first_at, o.last_at
                FROM sparrow_flow_timer AS t
                JOIN sparrow_flow_order AS o ON o.source = t.source AND o.id = t.order_id
                WHERE t.state = 'pending' AND t.due_at <= \(now.secondsSince1970) ORDER BY t.due_at, t.id
                LIMIT \(limit)
                """, logger: database.logger)
            {
                let timer = try Self.flowTimer(row)
                let order = row.makeRandomAccess()  // its columns after the timer's
                let (fields, seen) = (try order[10].decode(String.self), try order[11].decode(Int.self))
                let (firstAt, lastAt) = (try order[12].decode(Int64.self), try order[13].decode(Int64.self))
                due.append(
                    DueFlowTimer(
                        timer: timer,
                        order: FlowOrder(
                            source: timer.source, id: timer.order, fields: FlowOrder.fields(stored: fields),
                            seen: seen, firstAt: Timestamp(secondsSince1970: firstAt),
                            lastAt: Timestamp(secondsSince1970: lastAt))))
            }
            return due
        }
    }

    public func nextFlowWake(campaigns: [String]) async throws -> Timestamp? {
        try await database.connection { connection in
            var next: Int64?
            for try await earliest in try await connection.query(
                """
                SELECT least(
                    (SELECT min(due_at) FROM sparrow_flow_timer WHERE state = 'pending'),
                    (SELECT min(send_at) FROM sparrow_message
                        WHERE campaign = ANY(\(campaigns)) AND state = 'deferred'))
                """, logger: database.logger
            ).decode(Int64?.self) { next = earliest }
            return next.map { Timestamp(secondsSince1970: $0) }
        }
    }

    @discardableResult
    public func settleFlowTimers(_ outcomes: [(timer: Int, outcome: FlowTimerOutcome)], at now: Timestamp) async throws
        -> [JournalEntry]
    {
        let logger = database.logger
        return try await database.transaction { connection in
            var journaled: [JournalEntry] = []
            for (timer, outcome) in outcomes {
                let (state, reason, messageID, dueAt) = outcome.settled
                // The row's lock decides between processes settling one timer: the later one finds it settled.
                let settled = try await connection.query(
                    """
                    UPDATE sparrow_flow_timer SET state = \(state.rawValue), reason = \(reason),
                        message_id = \(messageID), due_at = coalesce(\(dueAt), due_at),
                        updated_at = \(now.secondsSince1970)
                    WHERE id = \(timer) AND state = 'pending' RETURNING id
                    """, logger: logger
                ).collect()
                // A timer an event settled meanwhile (a payment's cancellation) keeps that end, and sends nothing.
                guard !settled.isEmpty, case .sent(let entry) = outcome else { continue }
                try await connection.query(
                    """
                    INSERT INTO sparrow_message (id, campaign, line, recipient, carrier, gateway, text, segments,
                        throttle_units, cost, send_at, state, rank, time_zone, parameters, occasion)
                    VALUES (
                        \(entry.id), \(entry.campaign), \(entry.line), \(entry.to), \(entry.carrier), \(entry.gateway),
                        \(entry.text), \(entry.segments), \(entry.throttleUnits), \(entry.cost),
                        \(entry.sendAt.secondsSince1970), \(entry.state.rawValue), \(entry.state.rank),
                        \(entry.timeZone), \(JSONStrings.encode(entry.parameters)), \("\(timer)"))
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
                journaled.append(entry)
            }
            return journaled
        }
    }

    public func flowDayTotal(phone: String, from: Timestamp, to: Timestamp) async throws -> Double {
        try await database.connection { connection in
            OrderSpend.dayTotal(try await orders(of: phone, connection), from: from, to: to)
        }
    }

    /// What each of `phone`'s orders adds to its totals of a day.
    private func orders(of phone: String, _ connection: PostgresConnection) async throws -> [OrderSpend] {
        var orders: [OrderSpend] = []
        for try await (source, firstAt, amount, closed) in try await connection.query(
            "SELECT source, first_at, amount, closed FROM sparrow_flow_order WHERE phone = \(phone)",
            logger: database.logger
        ).decode((String, Int64, Double?, Bool).self) {
            orders.append(OrderSpend(source: source, firstAt: firstAt, amount: amount, closed: closed))
        }
        return orders
    }

    public func hasLaterOrder(phone: String, after instant: Timestamp, than order: FlowOrder) async throws -> Bool {
        try await database.connection { connection in
            try await !connection.query(
                """
                SELECT 1 FROM sparrow_flow_order WHERE phone = \(phone) AND first_at > \(instant.secondsSince1970)
                    AND NOT (source = \(order.source) AND id = \(order.id)) AND source NOT LIKE 'birthday.%'
                LIMIT 1
                """, logger: database.logger
            ).collect().isEmpty
        }
    }

    public func marketingSends(among numbers: [UInt64], since: Timestamp, marketing: [String]) async throws
        -> [UInt64: [Timestamp]]
    {
        guard !numbers.isEmpty else { return [:] }
        return try await database.connection { connection in
            var sends: [UInt64: [Timestamp]] = [:]
            // Flow campaigns are named flow.*, a prefix `send` refuses: the journal counts theirs.
            for try await (number, sentAt) in try await connection.query(
                """
                SELECT number, sent_at FROM sparrow_send
                WHERE number = ANY(\(numbers.map { Int64(bitPattern: $0) })) AND sent_at >= \(since.secondsSince1970)
                    AND coalesce(campaign, '') NOT LIKE 'flow.%'
                """, logger: database.logger
            ).decode((Int64, Int64).self) {
                sends[UInt64(bitPattern: number), default: []].append(Timestamp(secondsSince1970: sentAt))
            }
            guard !marketing.isEmpty else { return sends }
            for try await (recipient, sendAt) in try await connection.query(
                """
                SELECT recipient, send_at FROM sparrow_message
                WHERE campaign = ANY(\(marketing)) AND recipient = ANY(\(numbers.map { "+\($0)" }))
                    AND send_at >= \(since.secondsSince1970) AND state != 'failed'
                """, logger: database.logger
            ).decode((String, Int64).self) {
                sends[PhoneNumber.value(ofE164: recipient), default: []].append(Timestamp(secondsSince1970: sendAt))
            }
            return sends
        }
    }

    public func setTransactional(_ campaigns: [String]) async throws {
        try await database.execute(
            "UPDATE sparrow_campaign SET transactional = (id = ANY(\(campaigns))) WHERE id LIKE 'flow.%'")
    }

    public func lastFlowActivity() async throws -> Timestamp? {
        try await database.connection { connection in
            var last: Int64?
            for try await latest in try await connection.query(
                """
                SELECT greatest(
                    (SELECT max(at) FROM sparrow_flow_event), (SELECT max(updated_at) FROM sparrow_flow_timer))
                """, logger: database.logger
            ).decode(Int64?.self) { last = latest }
            return last.map { Timestamp(secondsSince1970: $0) }
        }
    }

    public func releaseDeferred(campaigns: [String], dueBy now: Timestamp, limit: Int) async throws -> [JournalEntry] {
        try await database.connection { connection in
            var released: [JournalEntry] = []
            for try await (
                campaign, id, line, to, carrier, gateway, text, segments, units, cost, sendAt, zone, parameters
            )
                in try await connection.query(
                    """
                    UPDATE sparrow_message SET state = 'ready' WHERE id IN (
                        SELECT id FROM sparrow_message WHERE state = 'deferred' AND send_at <= \(now.secondsSince1970)
                            AND campaign = ANY(\(campaigns))
                        ORDER BY send_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                    AND state = 'deferred'
                    RETURNING campaign, id, line, recipient, carrier, gateway, text, segments, throttle_units, cost,
                        send_at, time_zone, parameters
                    """, logger: database.logger
                ).decode(
                    (
                        String, String, Int, String, String?, String, String, Int, Int, Double, Int64, String?, String?
                    ).self)
            {
                released.append(
                    JournalEntry(
                        id: id, campaign: campaign, line: line, to: to, carrier: carrier, gateway: gateway, text: text,
                        segments: segments, throttleUnits: units, cost: cost,
                        sendAt: Timestamp(secondsSince1970: sendAt), state: .ready, timeZone: zone,
                        parameters: JSONStrings.decode(parameters)))
            }
            return released.sorted { ($0.sendAt, $0.id) < ($1.sendAt, $1.id) }
        }
    }

    public func lastFlowPass(rule: String) async throws -> Int64? {
        try await database.connection { connection in
            var day: Int64?
            for try await passed in try await connection.query(
                "SELECT day FROM sparrow_flow_pass WHERE rule = \(rule)", logger: database.logger
            ).decode(Int64.self) { day = passed }
            return day
        }
    }

    public func recordFlowPass(rule: String, day: Int64) async throws {
        try await database.execute(
            """
            INSERT INTO sparrow_flow_pass (rule, day) VALUES (\(rule), \(day))
            ON CONFLICT (rule) DO UPDATE SET day = greatest(sparrow_flow_pass.day, excluded.day)
            """)
    }

    public func flowStatus(next: Int) async throws -> FlowStatus {
        try await database.connection { connection in
            var counts: [FlowStatus.Count] = []
            for try await (rule, state, reason, count) in try await connection.query(
                """
                SELECT rule, state, reason, count(*) FROM sparrow_flow_timer
                GROUP BY rule, state, reason ORDER BY rule, state, reason
                """, logger: database.logger
            ).decode((String, String, String?, Int).self) {
                counts.append(
                    FlowStatus.Count(
                        rule: rule, state: FlowTimer.State(rawValue: state) ?? .pending, reason: reason, count: count))
            }
            var pending: [FlowTimer] = []
            for try await row in try await connection.query(
                """
                SELECT \(unescaped: Self.timerColumns) FROM sparrow_flow_timer AS t WHERE t.state = 'pending'
                ORDER BY t.due_at, t.id LIMIT \(next)
                """, logger: database.logger)
            {
                pending.append(try Self.flowTimer(row))
            }
            var (events, orders) = (0, 0)
            for try await counted in try await connection.query(
                "SELECT (SELECT count(*) FROM sparrow_flow_event), (SELECT count(*) FROM sparrow_flow_order)",
                logger: database.logger
            ).decode((Int, Int).self) { (events, orders) = counted }
            return FlowStatus(counts: counts, next: pending, events: events, orders: orders)
        }
    }

    /// A timer's columns, first in each row `flowTimer` reads.
    private static let timerColumns =
        "t.id, t.rule, t.key, t.step, t.source, t.order_id, t.trigger, t.due_at, t.state, t.reason"

    private static func flowTimer(_ row: PostgresRow) throws -> FlowTimer {
        let (id, rule, key, step, source, order, trigger, dueAt, state, reason) = try row.decode(
            (Int, String, String, Int, String, String, Int64, Int64, String, String?).self)
        return FlowTimer(
            id: id, rule: rule, key: key, step: step, source: source, order: order,
            trigger: Timestamp(secondsSince1970: trigger), dueAt: Timestamp(secondsSince1970: dueAt),
            state: FlowTimer.State(rawValue: state) ?? .pending, reason: reason)
    }
}

/// What one of a number's orders adds to what it spent in a day.
private struct OrderSpend {
    var source: String
    var firstAt: Int64
    var amount: Double?
    var closed: Bool

    /// The amounts of the orders placed in `from..<to`, closed ones and birthdays left out (`flowDayTotal`).
    static func dayTotal(_ orders: [OrderSpend], from: Timestamp, to: Timestamp) -> Double {
        orders.filter {
            (from.secondsSince1970..<to.secondsSince1970).contains($0.firstAt) && !$0.closed
                && !$0.source.hasPrefix("birthday.")
        }.reduce(0) { $0 + ($1.amount ?? 0) }
    }
}
