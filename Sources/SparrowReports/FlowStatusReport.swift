package import SparrowCore

/// `sparrow flows status`: each rule's timers by state (and reason), and the next ones due.
package enum FlowStatusReport {
    package enum Format: String, CaseIterable, Sendable {
        case table, json
    }

    package static func render(_ status: FlowStatus, format: Format) -> String {
        switch format {
        case .table: table(status)
        case .json: json(status)
        }
    }

    private static func table(_ status: FlowStatus) -> String {
        var rows = [["rule", "pending", "sent", "cancelled", "skipped"]]
        for (rule, counts) in grouped(status) {
            rows.append(
                [rule]
                    + FlowTimer.State.allCases.map { state in
                        String(counts.filter { $0.state == state }.reduce(0) { $0 + $1.count })
                    })
        }
        var text = "\(status.events) events, \(status.orders) orders\n\n" + TextTable.render(rows)
        let reasons = status.counts.filter { $0.state == .skipped || $0.state == .cancelled }
        if !reasons.isEmpty {
            text +=
                "\nwhy not sent\n"
                + TextTable.render(
                    [["rule", "state", "reason", "timers"]]
                        + reasons.map { [$0.rule, $0.state.rawValue, $0.reason ?? "-", String($0.count)] })
        }
        if !status.next.isEmpty {
            text +=
                "\nnext due\n"
                + TextTable.render(
                    [["due", "rule", "order", "step"]]
                        + status.next.map {
                            [$0.dueAt.description, $0.rule, "\($0.source):\($0.order)", String($0.step)]
                        })
        }
        return text
    }

    private static func json(_ status: FlowStatus) -> String {
        var json = JSONWriter()
        json.object { root in
            root.field("events", status.events)
            root.field("orders", status.orders)
            root.field("rules") { list in
                list.array { list in
                    for (rule, counts) in grouped(status) {
                        list.object { entry in
                            entry.field("rule", rule)
                            func total(_ state: FlowTimer.State) -> Int {
                                counts.filter { $0.state == state }.reduce(0) { $0 + $1.count }
                            }
                            entry.field("pending", total(.pending))
                            entry.field("sent", total(.sent))
                            entry.field("cancelled", total(.cancelled))
                            entry.field("skipped", total(.skipped))
                            entry.field("reasons") { reasons in
                                reasons.array { reasons in
                                    for count in counts where count.reason != nil {
                                        reasons.object { item in
                                            item.field("state", count.state.rawValue)
                                            item.field("reason", count.reason)
                                            item.field("timers", count.count)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            root.field("next") { list in
                list.array { list in
                    for timer in status.next {
                        list.object { item in
                            item.field("due", timer.dueAt.description)
                            item.field("rule", timer.rule)
                            item.field("source", timer.source)
                            item.field("order", timer.order)
                            item.field("step", timer.step)
                        }
                    }
                }
            }
        }
        return String(decoding: json.bytes, as: UTF8.self) + "\n"
    }

    /// The counts by rule, in the rules' order.
    private static func grouped(_ status: FlowStatus) -> [(String, [FlowStatus.Count])] {
        var order: [String] = []
        var byRule: [String: [FlowStatus.Count]] = [:]
        for count in status.counts {
            if byRule[count.rule] == nil { order.append(count.rule) }
            byRule[count.rule, default: []].append(count)
        }
        return order.map { ($0, byRule[$0]!) }
    }
}
