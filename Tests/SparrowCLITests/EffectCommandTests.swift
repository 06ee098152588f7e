import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import SparrowTransport
import Testing

/// The loop's measuring end: a campaign sent with a holdout and a tracked link, its messages delivered, some links
/// clicked through `sparrow receipts`, the store's orders after it, and `effect` telling the sent group's purchases
/// and clicks from the holdout's; then `audience` narrowing to the responders.
@Suite struct EffectCommandTests {
    /// The campaign starts now (the webhook records clicks on the wall clock), and is measured two weeks later.
    static let now = Timestamp(secondsSince1970: Int64(Date().timeIntervalSince1970))
    static let start = now.description
    static let later = (now + 14 * 86_400).description
    static let day: Int64 = 86_400
    /// Recipient `index`'s number.
    static func number(_ index: Int) -> String { "1380013\(String(8000 + index))" }

    /// Every recipient bought once 50 days before; after the campaign, those of even index buy 88.00 the next day,
    /// and those of index 1, 5, 9, … after the window; someone who was not sent to buys too.
    static func orders(recipients: Int) -> String {
        var lines = ["order_id,customer_id,phone,name,paid_at,status,amount,items"]
        for index in 0..<recipients {
            lines.append("o\(index),c\(index),\(number(index)),客户\(index),\(now + -50 * day),paid,50.00,T恤")
            if index % 2 == 0 {
                lines.append("a\(index),c\(index),\(number(index)),客户\(index),\(now + day),paid,88.00,外套")
            } else if index % 4 == 1 {
                lines.append("l\(index),c\(index),\(number(index)),客户\(index),\(now + 9 * day),paid,70.00,帽子")
            }
        }
        lines.append("x1,stranger,13900000000,路人,\(now + day),paid,500.00,外套")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Clicks the links of the recipients whose index meets `chosen`, found in the bodies the gateway took, through
    /// a `sparrow receipts` of the folder's configuration; the answers' statuses, and whose links were clicked.
    static func click(_ bodies: String, in folder: URL, where chosen: (Int) -> Bool) async throws -> (
        statuses: [Int], indices: [Int]
    ) {
        let port = folder.appendingPathComponent("receipts.out")
        let empty = folder.appendingPathComponent("empty")
        _ = FileManager.default.createFile(atPath: empty.path, contents: nil)
        let webhook = try SparrowProcess.start(
            ["receipts", "-c", "sparrow.yaml", "--insecure-loopback"], stdin: empty, in: folder, stdout: port)
        let base = try await SparrowProcess.said(/listening on (http:\/\/127\.0\.0\.1:\d+)/, in: port, by: webhook)
        let transport = CurlTransport()
        defer { transport.shutdown() }
        var (statuses, indices): ([Int], [Int]) = ([], [])
        for body in bodies.split(separator: "\n") {
            guard let number = body.firstMatch(of: /"to":"\+861380013(\d{4})"/).flatMap({ Int($0.1) }),
                chosen(number - 8000), let code = body.firstMatch(of: /s\.example\.cn\/s\/([0-9A-Za-z]{10})/)?.1
            else { continue }
            if case .answered(let answer) = await transport.perform(
                GatewayRequest(url: (base ?? "http://127.0.0.1:9") + "/s/" + code, method: .get))
            {
                statuses.append(answer.status)
                indices.append(number - 8000)
            }
        }
        kill(webhook.pid, SIGTERM)
        _ = await webhook.exited()
        return (statuses, indices.sorted())
    }

    @Test func measuresTheLiftAgainstTheHoldoutAndNarrowsToTheResponders() async throws {
        let folder = try SparrowProcess.temporaryFolder()
        let bodies = folder.appendingPathComponent("bodies.log")
        let simulator = GatewaySimulator(bodyLog: bodies.path)
        let count = 400
        let recipients = Data(("phone\n" + (0..<count).map(Self.number).joined(separator: "\n") + "\n").utf8)
        try Self.orders(recipients: count).write(
            to: folder.appendingPathComponent("orders.csv"), atomically: true, encoding: .utf8)
        let (send, effect, json, responders, others, list, report, untargeted, plan, clicks, history) =
            try await withSimulator(
                simulator
            ) { base in
                try """
                store: ./state.sqlite
                quiet_hours: off
                gateways:
                  - { name: primary, url: "\(base)/v1/sms", format: json, price_per_segment: 0.05 }
                receipts: { listen: "127.0.0.1:0" }
                links:
                  base: https://s.example.cn/s/
                  utm: { utm_source: sms }
                """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
                let text = ["--text", "春装上新 {{link}}"]
                let untargeted = try await SparrowProcess.outcome(
                    ["send", "-c", "sparrow.yaml", "--campaign", "x"] + text, stdin: recipients, in: folder)
                let plan = try await SparrowProcess.outcome(
                    ["plan", "-c", "sparrow.yaml", "--now", Self.start] + text, stdin: recipients, in: folder)
                let send = try await SparrowProcess.outcome(
                    [
                        "send", "-c", "sparrow.yaml", "--campaign", "spring", "--holdout", "25%", "--now", Self.start,
                        "--link-target", "https://shop.example.cn/spring",
                    ] + text, stdin: recipients, in: folder)
                // Every message is delivered, as its receipt would say.
                let store = try SQLiteStore(path: folder.appendingPathComponent("state.sqlite").path)
                _ = try await store.apply(
                    (1...simulator.stats.messages).map {
                        ReceiptRecord(
                            gateway: nil, gatewayMessageID: "sim-\($0)", state: .delivered,
                            at: Timestamp(rfc3339: Self.start)!)
                    })
                // A quarter of those who do not buy click their link, through the webhook as a phone would.
                let clicks = try await Self.click(
                    try String(contentsOf: bodies, encoding: .utf8), in: folder, where: { $0 % 4 == 3 })
                let measure = ["effect", "-c", "sparrow.yaml", "--campaign", "spring", "--orders", "orders.csv"]
                let effect = try await SparrowProcess.outcome(measure + ["--now", Self.later], in: folder)
                let json = try await SparrowProcess.outcome(
                    measure + ["--now", Self.later, "--format", "json"], in: folder)
                let narrowing = [
                    "audience", "--orders", "orders.csv", "--now", Self.later, "-c", "sparrow.yaml",
                ]
                let responders = try await SparrowProcess.outcome(
                    narrowing + ["--responders-of", "spring"], in: folder)
                let others = try await SparrowProcess.outcome(
                    narrowing + ["--non-responders-of", "spring"], in: folder)
                let history = try await SparrowProcess.outcome(
                    narrowing + ["--filter", "responded >= 1 and received = 1 and days_since_marketing < 30"],
                    in: folder)
                let list = try await SparrowProcess.outcome(
                    ["report", "-c", "sparrow.yaml", "--format", "csv"], in: folder)
                let report = try await SparrowProcess.outcome(
                    ["report", "-c", "sparrow.yaml", "--campaign", "spring"], in: folder)
                return (send, effect, json, responders, others, list, report, untargeted, plan, clicks, history)
            }
        #expect(untargeted.status == 2 && untargeted.stderr.contains("--link-target"), "\(untargeted.stderr)")
        // The plan counts each message as long as the one sent: 春装上新 (4), a space, the base (23) and the code (10).
        #expect(plan.stdout.contains(#""encoding":"UCS-2","units":38,"segments":1"#), "\(plan.stdout)")
        #expect(clicks.statuses.allSatisfy { $0 == 302 } && !clicks.statuses.isEmpty, "\(clicks.statuses)")
        #expect(send.status == 0, "\(send.stderr)")
        let holdout = Holdout(share: 0.25, campaign: "spring")
        let held = (0..<count).filter { holdout.holds("+86" + Self.number($0)) }
        let sent = (0..<count).filter { !holdout.holds("+86" + Self.number($0)) }
        #expect(simulator.stats.messages == sent.count)
        let (sentBuyers, heldBuyers) = (sent.filter { $0 % 2 == 0 }.count, held.filter { $0 % 2 == 0 }.count)
        let clickers = sent.filter { $0 % 4 == 3 }
        #expect(clicks.indices == clickers)

        #expect(effect.status == 0, "\(effect.stderr)")
        /// The cells of the table's first line that starts with `label`.
        func row(_ label: String) -> [String]? {
            effect.stdoutLines.first { $0.hasPrefix(label + " ") }.map { $0.split(separator: " ").map(String.init) }
        }
        #expect(row("recipients") == ["recipients", "\(sent.count)", "\(held.count)"], "\(effect.stdout)")
        #expect(row("buyers") == ["buyers", "\(sentBuyers)", "\(heldBuyers)"])
        #expect(row("clickers") == ["clickers", "\(clickers.count)", "-"])
        #expect(row("responders") == ["responders", "\(sentBuyers + clickers.count)", "-"])
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
        let responseRate = Double(sentBuyers + clickers.count) / Double(sent.count)
        let roi = Double(sentBuyers * 88) / (Double(sent.count) * 0.05)
        #expect(
            list.stdoutLines.last?.hasSuffix(
                ",\((responseRate * 1e4).rounded() / 1e4),\((roi * 100).rounded() / 100)") == true, "\(list.stdout)")
        #expect(report.stdout.contains("campaign spring: purchases paid within 3d of each message"), "\(report.stdout)")

        // The responders are the delivered recipients who bought or clicked; the non-responders, the others delivered.
        #expect(responders.status == 0, "\(responders.stderr)")
        let responderPhones = Set(responders.stdoutLines.dropFirst().map { String($0.prefix { $0 != "," }) })
        #expect(responderPhones == Set(sent.filter { $0 % 2 == 0 || $0 % 4 == 3 }.map { "+86" + Self.number($0) }))
        let otherPhones = Set(others.stdoutLines.dropFirst().map { String($0.prefix { $0 != "," }) })
        // The marketing history says the same: one message each, responded to.
        #expect(Set(history.stdoutLines.dropFirst().map { String($0.prefix { $0 != "," }) }) == responderPhones)
        let withoutStore = try SparrowProcess.run(
            ["audience", "--orders", "orders.csv", "--filter", "response_rate > 0"], in: folder)
        #expect(withoutStore.status == 2 && withoutStore.stderr.contains("give --config"), "\(withoutStore.stderr)")
        #expect(otherPhones == Set(sent.filter { $0 % 4 == 1 }.map { "+86" + Self.number($0) }))
    }
}
