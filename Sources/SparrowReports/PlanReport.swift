package import SparrowCore

/// The human summary of a plan, for stderr.
package enum PlanReport {
    /// Renders `summary` as a few aligned lines.
    package static func text(
        _ summary: PlanSummary, now: Timestamp, carriers: CarrierDirectory, rejectsPath: String, seconds: Double
    ) -> String {
        var lines: [String] = []
        let rate = seconds > 0 ? Int(Double(summary.rows) / seconds) : 0
        lines.append("plan: \(grouped(summary.rows)) rows in \(fixed(seconds, 2)) s (\(grouped(rate)) rows/s)")
        let statuses = PlanStatus.allCases.compactMap { status in
            summary.byStatus[status].map { "\(status.rawValue) \(grouped($0))" }
        }
        lines.append(row("status", statuses.joined(separator: ", ")))
        if !summary.byReason.isEmpty {
            let reasons = summary.byReason.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
            lines.append(row("rejected", reasons.map { "\($0.key) \(grouped($0.value))" }.joined(separator: ", ")))
        }
        let messages = summary.messages
        if messages > 0 {
            let encodings = SMSEncoding.allCases.compactMap { encoding in
                summary.byEncoding[encoding].map {
                    "\(encoding.rawValue) \(grouped($0)) (\(percent($0, of: messages)))"
                }
            }
            lines.append(row("encoding", encodings.joined(separator: ", ")))
            let histogram = summary.segmentHistogram.sorted { $0.key < $1.key }
            lines.append(row("segments", histogram.map { "\($0.key): \(grouped($0.value))" }.joined(separator: ", ")))
            for (name, totals) in summary.byGateway.sorted(by: { $0.key < $1.key }) {
                lines.append(row("gateway", "\(name): " + amounts(totals.messages, totals.segments, totals.cost)))
            }
        }
        lines.append(row("total", amounts(messages, summary.segments, summary.cost)))
        if let finish = summary.forecastFinish(now: now, carriers: carriers) {
            lines.append(row("forecast", "last message at \(finish) (carrier rates and quiet hours, from \(now))"))
        }
        let rejected = summary.byStatus[.rejected] ?? 0
        lines.append(row("rejects", "\(grouped(rejected)) rows in \(rejectsPath)"))
        return lines.joined(separator: "\n") + "\n"
    }

    private static func amounts(_ messages: Int, _ segments: Int, _ cost: Double) -> String {
        "\(grouped(messages)) messages, \(grouped(segments)) segments, cost \(fixed(cost, 2))"
    }

    private static func row(_ label: String, _ text: String) -> String {
        "  " + label + String(repeating: " ", count: max(1, 10 - label.count)) + text
    }

    /// `1234567` → `1,234,567`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return (value < 0 ? "-" : "") + result
    }

    package static func fixed(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let sign = scaled < 0 ? "-" : ""
        let whole = sign + grouped(abs(scaled) / Int(scale))
        guard decimals > 0 else { return whole }
        let fraction = String(abs(scaled) % Int(scale))
        return whole + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }

    private static func percent(_ part: Int, of whole: Int) -> String {
        fixed(Double(part) * 100 / Double(whole), 1) + "%"
    }
}
