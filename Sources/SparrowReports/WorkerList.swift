package import SparrowCore

/// `sparrow workers`: the workers registered in a shared store, the earliest first, each with its campaign, how long
/// since its last heartbeat against its lease, and how many unanswered messages it holds.
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

        package init(
            id: String, host: String, pid: Int, campaign: String, started: Timestamp, silentSeconds: Double,
            leaseSeconds: Double, holding: Int
        ) {
            self.id = id
            self.host = host
            self.pid = pid
            self.campaign = campaign
            self.started = started
            self.silentSeconds = silentSeconds
            self.leaseSeconds = leaseSeconds
            self.holding = holding
        }

        /// Its lease holds: the others leave its messages alone.
        package var live: Bool { silentSeconds <= leaseSeconds }
    }

    package static func render(_ entries: [Entry], format: Format) -> String {
        switch format {
        case .table:
            var rows = [["worker", "host", "pid", "campaign", "started", "heartbeat", "lease", "holding", "state"]]
            for entry in entries {
                rows.append([
                    entry.id, entry.host, "\(entry.pid)", entry.campaign, entry.started.description,
                    "\(PlanReport.fixed(entry.silentSeconds, 1)) s ago", "\(PlanReport.fixed(entry.leaseSeconds, 0)) s",
                    "\(entry.holding)", entry.live ? "live" : "lapsed",
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
                        object.field("live", entry.live)
                    }
                }
            }
            json.newline()
            return String(decoding: json.bytes, as: UTF8.self)
        }
    }
}
