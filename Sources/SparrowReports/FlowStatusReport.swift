package import SparrowCore

/// `sparrow flows status`: each rule's timers by state (and reason), and the next ones due.
package enum FlowStatusReport {
    package enum Format: String, CaseIterable, Sendable {
        case table, json
    }

    /// - Parameter rules: the rules, by which each pending timer's wait is told (its delay, or quiet hours).
    package static func render(_ status: FlowStatus, rules: [FlowRule], format: Format) -> String {
        let waits = Dictionary(status.next.map { ($0.id, wait(of: $0, rules: rules)) }) { first, _ in first }
        switch format {
        case .table: return table(status, waits: waits)
        case .json: return json(status, waits: waits)
        }
    }

    /// Why a pending timer waits until its time: its rule's delay, or quiet hours it was moved past or before.
    static func wait(of timer: FlowTimer, rules: [FlowRule]) -> String {
        guard let rule = rules.first(where: { $0.name == timer.rule }), rule.steps.indices.contains(timer.step) else {
            return "its rule is gone"
        }
        let planned = timer.trigger + rule.steps[timer.step].delay
        if timer.dueAt > planned { return "quiet hours" }
        if timer.dueAt < planned { return "before quiet hours" }
        return "its delay"
    }

    private static func table(_ status: FlowStatus, waits: [Int: String]) -> String {
        var rows = [["rule", "pending", "sent", "cancelled", "skipped"]]
        for (rule, counts) in grouped(status) {
            rows.append(
                [rule]
                    + FlowTimer.State.allCases.map { state in
                        String(total(counts, state))
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
                    [["due", "rule", "order", "step", "waiting for"]]
                        + status.next.map {
                            [
                                $0.dueAt.description, $0.rule, "\($0.source):\($0.order)", String($0.step),
                                waits[$0.id] ?? "",
                            ]
                        })
        }
        return text
    }

    private static func json(_ status: FlowStatus, waits: [Int: String]) -> String {
        var json = JSONWriter()
        json.object { root in
            root.field("events", status.events)
            root.field("orders", status.orders)
            root.field("rules") { list in
                list.array { list in
                    for (rule, counts) in grouped(status) {
                        list.object { entry in
                            entry.field("rule", rule)
                            entry.field("pending", total(counts, .pending))
                            entry.field("sent", total(counts, .sent))
                            entry.field("cancelled", total(counts, .cancelled))
                            entry.field("skipped", total(counts, .skipped))
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
                            item.field("waiting_for", waits[timer.id] ?? "")
                        }
                    }
                }
            }
        }
        return String(decoding: json.bytes, as: UTF8.self) + "\n"
    }

    /// The timers of `counts` in `state`, whatever their reasons.
    private static func total(_ counts: [FlowStatus.Count], _ state: FlowTimer.State) -> Int {
        counts.filter { $0.state == state }.reduce(0) { $0 + $1.count }
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
