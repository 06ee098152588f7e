import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import Testing

/// The loop's measuring end: a campaign sent with a holdout, its messages delivered, the store's orders after it, and
/// `effect` telling the sent group's purchases from the holdout's; then `audience` narrowing to the responders.
@Suite struct EffectCommandTests {
    static let start = "2026-11-22T04:00:00Z"
    /// Recipient `index`'s number.
    static func number(_ index: Int) -> String { "1380013\(String(8000 + index))" }

    /// Every recipient bought once in October; after the campaign, those of even index buy 88.00 the next day, and
    /// those of index 1, 3, … buy later than the window; someone who was not sent to buys too.
    static func orders(recipients: Int) -> String {
        var lines = ["order_id,customer_id,phone,name,paid_at,status,amount,items"]
        for index in 0..<recipients {
            lines.append("o\(index),c\(index),\(number(index)),客户\(index),2026-10-01T10:00:00+08:00,paid,50.00,T恤")
            if index % 2 == 0 {
                lines.append("a\(index),c\(index),\(number(index)),客户\(index),2026-11-23T10:00:00+08:00,paid,88.00,外套")
            } else if index % 4 == 1 {
                lines.append("l\(index),c\(index),\(number(index)),客户\(index),2026-12-01T10:00:00+08:00,paid,70.00,帽子")
            }
        }
        lines.append("x1,stranger,13900000000,路人,2026-11-23T10:00:00+08:00,paid,500.00,外套")
        return lines.joined(separator: "\n") + "\n"
    }

    @Test func measuresTheLiftAgainstTheHoldoutAndNarrowsToTheResponders() async throws {
        let simulator = GatewaySimulator()
        let folder = try SparrowProcess.temporaryFolder()
        let count = 400
        let recipients = Data(("phone\n" + (0..<count).map(Self.number).joined(separator: "\n") + "\n").utf8)
        try Self.orders(recipients: count).write(
            to: folder.appendingPathComponent("orders.csv"), atomically: true, encoding: .utf8)
        let (send, effect, json, responders, others, list, report) = try await withSimulator(simulator) { base in
            try """
            store: ./state.sqlite
            quiet_hours: off
            gateways:
              - { name: primary, url: "\(base)/v1/sms", format: json, price_per_segment: 0.05 }
            """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let send = try await SparrowProcess.outcome(
                [
                    "send", "-c", "sparrow.yaml", "--campaign", "spring", "--text", "春装上新", "--holdout", "25%",
                    "--now", Self.start,
                ], stdin: recipients, in: folder)
            // Every message is delivered, as its receipt would say.
            let store = try SQLiteStore(path: folder.appendingPathComponent("state.sqlite").path)
            _ = try await store.apply(
                (1...simulator.stats.messages).map {
                    ReceiptRecord(
                        gateway: nil, gatewayMessageID: "sim-\($0)", state: .delivered,
                        at: Timestamp(rfc3339: Self.start)!)
                })
            let measure = ["effect", "-c", "sparrow.yaml", "--campaign", "spring", "--orders", "orders.csv"]
            let effect = try await SparrowProcess.outcome(measure + ["--now", "2026-12-06T00:00:00Z"], in: folder)
            let json = try await SparrowProcess.outcome(
                measure + ["--now", "2026-12-06T00:00:00Z", "--format", "json"], in: folder)
            let narrowing = [
                "audience", "--orders", "orders.csv", "--now", "2026-12-06T00:00:00Z", "-c", "sparrow.yaml",
            ]
            let responders = try await SparrowProcess.outcome(narrowing + ["--responders-of", "spring"], in: folder)
            let others = try await SparrowProcess.outcome(narrowing + ["--non-responders-of", "spring"], in: folder)
            let list = try await SparrowProcess.outcome(
                ["report", "-c", "sparrow.yaml", "--format", "csv"], in: folder)
            let report = try await SparrowProcess.outcome(
                ["report", "-c", "sparrow.yaml", "--campaign", "spring"], in: folder)
            return (send, effect, json, responders, others, list, report)
        }
        #expect(send.status == 0, "\(send.stderr)")
        let holdout = Holdout(share: 0.25, campaign: "spring")
        let held = (0..<count).filter { holdout.holds("+86" + Self.number($0)) }
        let sent = (0..<count).filter { !holdout.holds("+86" + Self.number($0)) }
        #expect(simulator.stats.messages == sent.count)
        let (sentBuyers, heldBuyers) = (sent.filter { $0 % 2 == 0 }.count, held.filter { $0 % 2 == 0 }.count)

        #expect(effect.status == 0, "\(effect.stderr)")
        /// The cells of the table's first line that starts with `label`.
        func row(_ label: String) -> [String]? {
            effect.stdoutLines.first { $0.hasPrefix(label + " ") }.map { $0.split(separator: " ").map(String.init) }
        }
        #expect(row("recipients") == ["recipients", "\(sent.count)", "\(held.count)"], "\(effect.stdout)")
        #expect(row("buyers") == ["buyers", "\(sentBuyers)", "\(heldBuyers)"])
        #expect(row("responders") == ["responders", "\(sentBuyers)", "-"])
        #expect(row("orders") == ["orders", "\(sentBuyers)", "\(heldBuyers)"])  // the later purchases are outside
        func amount(_ whole: Int) -> String {  // 13640 → 13,640.00
            (whole >= 1000 ? "\(whole / 1000)," + String(String(whole % 1000 + 1000).dropFirst()) : "\(whole)") + ".00"
        }
        #expect(row("revenue") == ["revenue", amount(sentBuyers * 88), amount(heldBuyers * 88)])
        #expect(
            row("cost") == ["cost", "\(sent.count * 5 / 100).\(String(format: "%02d", sent.count * 5 % 100))", "-"])
        // Half of each group bought: no lift to speak of.
        #expect(effect.stdout.contains("The lift is not significant at 95 %"), "\(effect.stdout)")
        #expect(json.stdout.contains(#""dimension":"carrier","key":"china-mobile""#), "\(json.stdout)")
        #expect(json.stdout.contains(#""dimension":"segment""#))

        // The report keeps the measurement: the list gives its response rate and ROI, the campaign's report all of it.
        let responseRate = Double(sentBuyers) / Double(sent.count)
        let roi = Double(sentBuyers * 88) / (Double(sent.count) * 0.05)
        #expect(
            list.stdoutLines.last?.hasSuffix(
                ",\((responseRate * 1e4).rounded() / 1e4),\((roi * 100).rounded() / 100)") == true, "\(list.stdout)")
        #expect(report.stdout.contains("campaign spring: purchases paid within 3d of each message"), "\(report.stdout)")

        // The responders are the delivered recipients who bought; the non-responders, the others delivered.
        #expect(responders.status == 0, "\(responders.stderr)")
        let responderPhones = Set(responders.stdoutLines.dropFirst().map { String($0.prefix { $0 != "," }) })
        #expect(responderPhones == Set(sent.filter { $0 % 2 == 0 }.map { "+86" + Self.number($0) }))
        let otherPhones = Set(others.stdoutLines.dropFirst().map { String($0.prefix { $0 != "," }) })
        #expect(otherPhones == Set(sent.filter { $0 % 2 == 1 }.map { "+86" + Self.number($0) }))
    }
}
