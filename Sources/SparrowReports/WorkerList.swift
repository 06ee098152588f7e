package import SparrowCore

/// `sparrow workers`: the workers registered in a shared store, the earliest first, each with its campaign, how long
/// since its last heartbeat against its lease, how many unanswered messages it holds, and how many it has sent and
/// at what rate (messages a second between its last two heartbeats).
package enum WorkerList {
    package enum Format: String, Sendable {
        case table, json
    }

    package struct Entry: Sendable {
        package var id: String
        package var host: String
        package var pid: Int
        package var campaign: String
        package var started: Timestamp
        /// Since its last heartbeat, on the database's clock.
        package var silentSeconds: Double
        package var leaseSeconds: Double
        package var holding: Int
        package var sent: Int
        /// Messages a second; nil before its first heartbeat.
        package var rate: Double?

        package init(
            id: String, host: String, pid: Int, campaign: String, started: Timestamp, silentSeconds: Double,
            leaseSeconds: Double, holding: Int, sent: Int, rate: Double?
        ) {
            self.id = id
            self.host = host
            self.pid = pid
            self.campaign = campaign
            self.started = started
            self.silentSeconds = silentSeconds
            self.leaseSeconds = leaseSeconds
            self.holding = holding
            self.sent = sent
            self.rate = rate
        }

        /// Its lease holds: the others leave its messages alone.
        package var live: Bool { silentSeconds <= leaseSeconds }
    }

    package static func render(_ entries: [Entry], format: Format) -> String {
        switch format {
        case .table:
            var rows = [
                [
                    "worker", "host", "pid", "campaign", "started", "heartbeat", "lease", "holding", "sent", "rate",
                    "state",
                ]
            ]
            for entry in entries {
                rows.append([
                    entry.id, entry.host, "\(entry.pid)", entry.campaign, entry.started.description,
                    "\(PlanReport.fixed(entry.silentSeconds, 1)) s ago", "\(PlanReport.fixed(entry.leaseSeconds, 0)) s",
                    "\(entry.holding)", "\(entry.sent)", entry.rate.map { "\(PlanReport.fixed($0, 1))/s" } ?? "-",
                    entry.live ? "live" : "lapsed",
                ])
            }
            return TextTable.render(rows)
        case .json:
            var json = JSONWriter()
            json.array { array in
                for entry in entries {
                    array.object { object in
                        object.field("worker", entry.id)
                        object.field("host", entry.host)
                        object.field("pid", entry.pid)
                        object.field("campaign", entry.campaign)
                        object.field("started", entry.started.description)
                        object.field("heartbeat_seconds_ago", entry.silentSeconds)
                        object.field("lease_seconds", entry.leaseSeconds)
                        object.field("holding", entry.holding)
                        object.field("sent", entry.sent)
                        object.field("messages_per_second", entry.rate)
                        object.field("live", entry.live)
                    }
                }
            }
            json.newline()
            return String(decoding: json.bytes, as: UTF8.self)
        }
    }
}
