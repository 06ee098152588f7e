import PostgresNIO
public import SparrowCore
import SparrowStore

// A campaign's figures for its report, and its effect: what the database counts and sorts itself.
extension PostgresStore {
    public func timeline(campaign: String) async throws -> CampaignTimeline {
        try await database.connection { connection in
            func minutes(_ query: PostgresQuery) async throws -> [MinuteCount] {
                try await connection.query(query, logger: database.logger).collect().map { row in
                    let (minute, count) = try row.decode((Int64, Int).self)
                    return MinuteCount(minute: Timestamp(secondsSince1970: minute), count: count)
                }
            }
            return CampaignTimeline(
                sends: try await minutes(
                    """
                    SELECT sent_at / 60 * 60 AS minute, count(*) FROM sparrow_send WHERE campaign = \(campaign)
                    GROUP BY minute ORDER BY minute
                    """),
                // A delivered message's last update is its receipt's.
                deliveries: try await minutes(
                    """
                    SELECT updated_at / 60 * 60 AS minute, count(*) FROM sparrow_message
                    WHERE campaign = \(campaign) AND state = 'delivered' GROUP BY minute ORDER BY minute
                    """),
                latencies: try await connection.query(
                    """
                    WITH sent AS (
                        SELECT number, max(sent_at) AS sent_at FROM sparrow_send WHERE campaign = \(campaign)
                        GROUP BY number)
                    SELECT greatest(m.updated_at - sent.sent_at, 0) AS seconds, count(*)
                    FROM sparrow_message m JOIN sent ON sent.number = substr(m.recipient, 2)::bigint
                    WHERE m.campaign = \(campaign) AND m.state = 'delivered'
                    GROUP BY seconds ORDER BY seconds
                    """, logger: database.logger
                ).collect().map { row in
                    let (seconds, count) = try row.decode((Int64, Int).self)
                    return LatencyCount(seconds: seconds, count: count)
                })
        }
    }

    public func figures(campaign: String) async throws -> CampaignFigures {
        try await database.connection { connection in
            var figures = CampaignFigures()
            func add(carrier: String?, gateway: String?, _ change: (inout Funnel) -> Void) {
                for slice in CampaignFigures.Slice.of(carrier: carrier, gateway: gateway) { change(&figures[slice]) }
            }
            for row in try await connection.query(
                """
                SELECT carrier, gateway, status, count(*) FROM sparrow_skipped WHERE campaign = \(campaign)
                GROUP BY carrier, gateway, status
                """, logger: database.logger
            ).collect() {
                let (carrier, gateway, status, count) = try row.decode((String?, String?, String, Int).self)
                add(carrier: carrier, gateway: gateway) {
                    $0.add(skipped: count, status: PlanStatus(rawValue: status) ?? .rejected)
                }
            }
            for row in try await connection.query(
                """
                SELECT carrier, gateway, state, attempts > 0, count(*), sum(segments)::bigint, sum(cost)
                FROM sparrow_message WHERE campaign = \(campaign)
                GROUP BY carrier, gateway, state, attempts > 0
                """, logger: database.logger
            ).collect() {
                let (carrier, gateway, state, sent, count, segments, cost) = try row.decode(
                    (String?, String, String, Bool, Int, Int, Double).self)
                add(carrier: carrier, gateway: gateway) {
                    $0.add(
                        messages: count, state: MessageState(rawValue: state) ?? .ready, sent: sent,
                        segments: segments, cost: cost)
                }
            }
            // Nearest rank, as `percentile_disc` takes it: the first latency whose cumulative share reaches p.
            for row in try await connection.query(
                """
                SELECT grouping(carrier), grouping(gateway), carrier, gateway,
                    percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_us),
                    percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_us)
                FROM (
                    SELECT coalesce(carrier, '') AS carrier, gateway, latency_us FROM sparrow_message
                    WHERE campaign = \(campaign) AND latency_us IS NOT NULL) AS m
                GROUP BY GROUPING SETS ((), (carrier), (gateway))
                """, logger: database.logger
            ).collect() {
                let (byCarrier, byGateway, carrier, gateway, p50, p99) = try row.decode(
                    (Int32, Int32, String?, String?, Int64?, Int64?).self)
                guard let p50, let p99 else { continue }  // the total of a campaign without latencies
                let slice: CampaignFigures.Slice =
                    byCarrier == 0 ? .carrier(carrier ?? "") : byGateway == 0 ? .gateway(gateway ?? "") : .total
                figures[slice].latencyP50 = .microseconds(p50)
                figures[slice].latencyP99 = .microseconds(p99)
            }
            return figures
        }
    }

    public func awaitingReceipts(campaign: String) async throws -> Int {
        try await database.connection { connection in
            try await connection.query(
                """
                SELECT count(*) FROM sparrow_message
                WHERE campaign = \(campaign) AND state IN ('ready', 'submitting', 'accepted')
                """, logger: database.logger
            ).collect()[0].decode(Int.self)
        }
    }

    public func effectRecipients(campaign: String) async throws -> [EffectRecipient] {
        try await database.connection { connection in
            var recipients: [EffectRecipient] = []
            let messages = try await connection.query(
                """
                SELECT recipient, carrier, send_at, state, cost,
                    (SELECT min(at) FROM sparrow_click c WHERE c.campaign = m.campaign AND c.line = m.line)
                FROM sparrow_message m WHERE campaign = \(campaign)
                """, logger: database.logger)
            for try await (recipient, carrier, sendAt, state, cost, clickedAt) in messages.decode(
                (String, String?, Int64, String, Double, Int64?).self)
            {
                let reach: EffectRecipient.Reach =
                    switch MessageState(rawValue: state) {
                    case .delivered?: .delivered
                    case .accepted?, .unknown?, .undelivered?, .expired?: .sent
                    default: .none
                    }
                recipients.append(
                    EffectRecipient(
                        number: PhoneNumber.value(ofE164: recipient), heldOut: false, carrier: carrier,
                        sentAt: Timestamp(secondsSince1970: sendAt), reach: reach, cost: cost,
                        clickedAt: clickedAt.map(Timestamp.init(secondsSince1970:))))
            }
            let heldOut = try await connection.query(
                """
                SELECT recipient, carrier, send_at FROM sparrow_skipped
                WHERE campaign = \(campaign) AND status = \(PlanStatus.heldOut.rawValue) AND recipient IS NOT NULL
                """, logger: database.logger)
            for try await (recipient, carrier, sendAt) in heldOut.decode((String, String?, Int64).self) {
                recipients.append(
                    EffectRecipient(
                        number: PhoneNumber.value(ofE164: recipient), heldOut: true, carrier: carrier,
                        sentAt: Timestamp(secondsSince1970: sendAt), reach: .none, cost: 0))
            }
            return recipients
        }
    }

    public func saveEffect(campaign: String, _ effect: CampaignEffect, responders: [UInt64]) async throws {
        let groups = effect.rows.flatMap { row in
            [(row, false, row.sent), (row, true, row.holdout)]
        }
        try await database.transaction { connection in
            try await connection.query(
                """
                UPDATE sparrow_campaign SET effect_window = \(effect.window),
                    effect_measured_at = \(effect.measuredAt.secondsSince1970)
                WHERE id = \(campaign)
                """, logger: database.logger)
            try await connection.query(
                "DELETE FROM sparrow_effect WHERE campaign = \(campaign)", logger: database.logger)
            try await connection.query(
                "DELETE FROM sparrow_responder WHERE campaign = \(campaign)", logger: database.logger)
            try await connection.query(
                """
                INSERT INTO sparrow_effect (campaign, dimension, key, held_out, recipients, sent, delivered, responders,
                    clickers, buyers, orders, revenue, revenue_squares, cost)
                SELECT \(campaign), * FROM unnest(
                    \(groups.map(\.0.dimension.rawValue))::text[], \(groups.map(\.0.key))::text[],
                    \(groups.map(\.1))::bool[], \(groups.map(\.2.recipients))::bigint[],
                    \(groups.map(\.2.sent))::bigint[], \(groups.map(\.2.delivered))::bigint[],
                    \(groups.map(\.2.responders))::bigint[], \(groups.map(\.2.clickers))::bigint[],
                    \(groups.map(\.2.buyers))::bigint[], \(groups.map(\.2.orders))::bigint[],
                    \(groups.map(\.2.revenue.minorUnits))::bigint[], \(groups.map(\.2.revenueSquares))::float8[],
                    \(groups.map(\.2.cost))::float8[])
                """, logger: database.logger)
            try await connection.query(
                """
                INSERT INTO sparrow_responder (campaign, number)
                SELECT \(campaign), unnest(\(responders.map { Int64(bitPattern: $0) })::bigint[])
                """, logger: database.logger)
        }
    }

    public func effect(campaign: String) async throws -> CampaignEffect? {
        try await database.connection { connection in
            let measured = try await connection.query(
                "SELECT effect_window, effect_measured_at FROM sparrow_campaign WHERE id = \(campaign)",
                logger: database.logger
            ).collect()
            guard let (window, at) = try measured.first?.decode((Int64?, Int64?).self), let window, let at else {
                return nil
            }
            var stored: [(dimension: String, key: String, heldOut: Bool, group: EffectGroup)] = []
            for try await (
                dimension, key, heldOut, recipients, sent, delivered, responders, clickers, buyers, orders, revenue,
                squares, cost
            ) in try await connection.query(
                """
                SELECT dimension, key, held_out, recipients, sent, delivered, responders, clickers, buyers, orders,
                    revenue, revenue_squares, cost
                FROM sparrow_effect WHERE campaign = \(campaign)
                """, logger: database.logger
            ).decode((String, String, Bool, Int, Int, Int, Int, Int, Int, Int, Int64, Double, Double).self) {
                let group = EffectGroup(
                    recipients: recipients, sent: sent, delivered: delivered, responders: responders,
                    clickers: clickers, buyers: buyers, orders: orders, revenue: Money(minorUnits: revenue),
                    revenueSquares: squares, cost: cost)
                stored.append((dimension, key, heldOut, group))
            }
            return CampaignEffect(
                window: window, measuredAt: Timestamp(secondsSince1970: at), rows: EffectRow.assembled(from: stored))
        }
    }

    public func marketingHistory() async throws -> [UInt64: MarketingHistory] {
        try await database.connection { connection in
            var history: [UInt64: MarketingHistory] = [:]
            let sent = try await connection.query(
                """
                SELECT recipient, count(*), max(send_at) FROM sparrow_message
                WHERE state IN ('accepted', 'delivered', 'undelivered', 'expired', 'unknown')
                    AND campaign NOT IN (SELECT id FROM sparrow_campaign WHERE transactional)
                GROUP BY recipient
                """, logger: database.logger)
            for try await (recipient, received, lastSent) in sent.decode((String, Int, Int64).self) {
                history[PhoneNumber.value(ofE164: recipient)] = MarketingHistory(
                    received: received, lastSent: Timestamp(secondsSince1970: lastSent))
            }
            let responded = try await connection.query(
                "SELECT number, count(*) FROM sparrow_responder GROUP BY number", logger: database.logger)
            for try await (number, campaigns) in responded.decode((Int64, Int).self) {
                history[UInt64(bitPattern: number), default: MarketingHistory()].responded = campaigns
            }
            return history
        }
    }

    public func recipients(of campaign: String, responded: Bool) async throws -> [UInt64] {
        if responded {
            return try await numbers(
                "SELECT number FROM sparrow_responder WHERE campaign = \(campaign) ORDER BY number")
        }
        let kept = Set(
            try await numbers("SELECT number FROM sparrow_responder WHERE campaign = \(campaign)"))
        return try await database.connection { connection in
            var delivered: [UInt64] = []
            for try await recipient in try await connection.query(
                "SELECT recipient FROM sparrow_message WHERE campaign = \(campaign) AND state = 'delivered'",
                logger: database.logger
            ).decode(String.self) {
                let number = PhoneNumber.value(ofE164: recipient)
                if !kept.contains(number) { delivered.append(number) }
            }
            return delivered.sorted()
        }
    }
}
