import GRDB
public import SparrowCore

// A campaign's figures for its report: the funnel by carrier and gateway, and the latency percentiles.
extension SQLiteStore {
    public func timeline(campaign: String) async throws -> CampaignTimeline {
        try await read { db in
            func minutes(_ sql: String) throws -> [MinuteCount] {
                try Row.fetchAll(db, sql: sql, arguments: [campaign]).map {
                    MinuteCount(minute: Timestamp(secondsSince1970: $0["minute"]), count: $0["count"])
                }
            }
            return CampaignTimeline(
                sends: try minutes(
                    """
                    SELECT sentAt / 60 * 60 AS minute, COUNT(*) AS count FROM send WHERE campaignID = ?
                    GROUP BY minute ORDER BY minute
                    """),
                // A delivered message's last update is its receipt's.
                deliveries: try minutes(
                    """
                    SELECT updatedAt / 60 * 60 AS minute, COUNT(*) AS count FROM message
                    WHERE campaignID = ? AND state = 'delivered' GROUP BY minute ORDER BY minute
                    """),
                // The ledger keys sends by the number's digits; SQLite indexes the join itself.
                latencies: try Row.fetchAll(
                    db,
                    sql: """
                        WITH sent AS (SELECT number, MAX(sentAt) AS sentAt FROM send WHERE campaignID = ?1 GROUP BY number)
                        SELECT MAX(message.updatedAt - sent.sentAt, 0) AS seconds, COUNT(*) AS count
                        FROM message JOIN sent ON sent.number = CAST(substr(message.recipient, 2) AS INTEGER)
                        WHERE message.campaignID = ?1 AND message.state = 'delivered'
                        GROUP BY seconds ORDER BY seconds
                        """, arguments: [campaign]
                ).map { LatencyCount(seconds: $0["seconds"], count: $0["count"]) })
        }
    }

    public func figures(campaign: String) async throws -> CampaignFigures {
        try await read { db in
            var figures = CampaignFigures()
            func add(carrier: String?, gateway: String?, _ change: (inout Funnel) -> Void) {
                for slice in CampaignFigures.Slice.of(carrier: carrier, gateway: gateway) { change(&figures[slice]) }
            }
            var latencies: [CampaignFigures.Slice: LatencyHistogram] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT carrier, gateway, status, COUNT(*) AS count FROM skipped WHERE campaignID = ?
                    GROUP BY carrier, gateway, status
                    """, arguments: [campaign])
            {
                let (count, status) = (row["count"] as Int, PlanStatus(rawValue: row["status"]) ?? .rejected)
                add(carrier: row["carrier"], gateway: row["gateway"]) { $0.add(skipped: count, status: status) }
            }
            for (group, totals) in try Self.messageGroups(db, campaign: campaign) {
                for slice in CampaignFigures.Slice.of(carrier: group.carrier, gateway: group.gateway) {
                    latencies[slice, default: LatencyHistogram()].merge(totals.latencies)
                }
                let state = MessageState(rawValue: group.state) ?? .ready
                add(carrier: group.carrier, gateway: group.gateway) { funnel in
                    funnel.add(
                        messages: totals.count, state: state, sent: group.sent, segments: totals.segments,
                        cost: totals.cost)
                }
            }
            try Self.addLatencies(to: &figures, latencies, db, campaign: campaign)
            return figures
        }
    }

    /// Messages that count alike in a campaign's funnel.
    private struct MessageGroup: Hashable {
        var carrier: String?
        var gateway: String?
        var state: String
        /// Handed to a gateway at least once.
        var sent: Bool
    }

    private struct MessageTotals {
        var count = 0
        var segments = 0
        var cost = 0.0
        /// The submit latencies of those that have one.
        var latencies = LatencyHistogram()

        mutating func add(segments: Int, cost: Double, latency: Int64?) {
            count += 1
            self.segments += segments
            self.cost += cost
            if let latency { latencies.add(microseconds: latency) }
        }
    }

    /// A campaign's messages counted by group in one pass. SQLite's `GROUP BY` sorts every message first, in a
    /// temporary B-tree, to make a handful of groups: twice the time at a million messages.
    private static func messageGroups(_ db: Database, campaign: String) throws -> [MessageGroup: MessageTotals] {
        var groups: [MessageGroup: MessageTotals] = [:]
        let scan = try HotStatement(
            db,
            sql: """
                SELECT carrier, gateway, state, attempts > 0, segments, cost, latencyMicroseconds
                FROM message WHERE campaignID = ?
                """)
        try scan.rows({ $0.bind(campaign) }) { row in
            let group = MessageGroup(
                carrier: row.string(0), gateway: row.string(1), state: row.string(2) ?? "", sent: row.int64(3) != 0)
            groups[group, default: MessageTotals()].add(
                segments: Int(row.int64(4)), cost: row.double(5), latency: row.optionalInt64(6))
        }
        return groups
    }

    public func awaitingReceipts(campaign: String) async throws -> Int {
        try await read { db in
            try Int.fetchOne(
                db,
                sql:
                    "SELECT COUNT(*) FROM message WHERE campaignID = ? AND state IN ('ready', 'submitting', 'accepted')",
                arguments: [campaign]) ?? 0
        }
    }

    /// Submit latency p50 and p99 (nearest rank) of every slice, exactly, in bounded memory and without sorting the
    /// campaign: the slices' histograms tell which bucket holds each percentile, and one more pass counts, by value,
    /// the latencies in those buckets.
    private static func addLatencies(
        to figures: inout CampaignFigures, _ latencies: [CampaignFigures.Slice: LatencyHistogram], _ db: Database,
        campaign: String
    ) throws {
        struct Wanted {
            var slice: CampaignFigures.Slice
            var percentile: WritableKeyPath<Funnel, Duration?>
            var bucket: Int
            var rank: Int  // in the bucket, from 1
            var counts: [Int64: Int] = [:]  // the bucket's latencies, by value
        }
        var wanted: [Wanted] = []
        for (slice, histogram) in latencies {
            for (percent, percentile) in [(50, \Funnel.latencyP50), (99, \Funnel.latencyP99)] {
                let rank = LatencyHistogram.nearestRank(percent: percent, of: histogram.total)
                guard let (bucket, inBucket) = histogram.locate(rank: rank) else { continue }
                let range = LatencyHistogram.range(of: bucket)
                if range.count == 1 {
                    figures[slice][keyPath: percentile] = .microseconds(range.lowerBound)
                } else {
                    wanted.append(Wanted(slice: slice, percentile: percentile, bucket: bucket, rank: inBucket))
                }
            }
        }
        guard !wanted.isEmpty else { return }
        let buckets = Set(wanted.map(\.bucket))
        let scan = try HotStatement(
            db,
            sql: """
                SELECT latencyMicroseconds, carrier, gateway FROM message
                WHERE campaignID = ? AND latencyMicroseconds IS NOT NULL
                """)
        try scan.rows({ $0.bind(campaign) }) { row in
            let latency = row.int64(0)
            let bucket = LatencyHistogram.bucket(of: latency)
            guard buckets.contains(bucket) else { return }
            let slices = CampaignFigures.Slice.of(carrier: row.string(1), gateway: row.string(2))
            for index in wanted.indices where wanted[index].bucket == bucket && slices.contains(wanted[index].slice) {
                wanted[index].counts[latency, default: 0] += 1
            }
        }
        for item in wanted {
            var below = 0
            for latency in item.counts.keys.sorted() {
                below += item.counts[latency, default: 0]
                if below >= item.rank {
                    figures[item.slice][keyPath: item.percentile] = .microseconds(latency)
                    break
                }
            }
        }
    }
}
