import Foundation
import SparrowCore
import SparrowGatewaySim
import SparrowStore
import SparrowTestSupport
import Testing

/// `report --format html` opened in a real browser: Debian's Chromium, headless, which `make test` installs.
@Suite struct HTMLReportBrowserTests {
    static let chromium = "/usr/bin/chromium"

    /// What a headless Chromium made of a page: its DOM as rendered, its console's errors, and the URLs the page
    /// itself asked for (from the browser's net log: a `file://` page's origin is opaque, `null`, unlike the
    /// browser's own background requests, which have none).
    struct Rendering {
        var dom: String
        var consoleErrors: [String]
        var pageRequests: Int
    }

    static func render(_ page: URL, screenshot: URL? = nil) async throws -> Rendering {
        let folder = page.deletingLastPathComponent()
        let netLog = folder.appendingPathComponent("net-log.json")
        var arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--log-net-log=\(netLog.path)",
        ]
        if let screenshot {
            arguments += ["--screenshot=\(screenshot.path)", "--window-size=900,1100", "--hide-scrollbars"]
        } else {
            arguments.append("--dump-dom")
        }
        let (stdout, stderr) = try await run(Self.chromium, arguments + [page.absoluteString], in: folder)
        let log = try String(contentsOf: netLog, encoding: .utf8)
        return Rendering(
            dom: stdout,
            consoleErrors: stderr.split(separator: "\n").filter { $0.contains("CONSOLE") || $0.contains("Uncaught") }
                .map(String.init),
            pageRequests: log.components(separatedBy: #""initiator":"null""#).count - 1)
    }

    /// Runs a program to its end without holding a thread of the cooperative pool.
    static func run(_ path: String, _ arguments: [String], in folder: URL) async throws -> (String, String) {
        let (stdout, stderr) = (folder.appendingPathComponent("out.txt"), folder.appendingPathComponent("err.txt"))
        _ = try await ChildProcess(
            [path] + arguments, in: folder.path, stdout: .file(stdout.path), stderr: .file(stderr.path)
        ).exited()
        return (
            try String(contentsOf: stdout, encoding: .utf8), try String(contentsOf: stderr, encoding: .utf8)
        )
    }

    @Test func theReportRendersItsChartsAndFetchesNothing() async throws {
        #expect(
            FileManager.default.isExecutableFile(atPath: Self.chromium),
            "Chromium is missing: `make test` installs Debian's chromium")
        let simulator = GatewaySimulator(faults: .init(refusedNumbers: 0))
        let folder = try SparrowProcess.temporaryFolder()
        let report = try await withSimulator(simulator) { base in
            try """
            store: ./state.sqlite
            quiet_hours: off
            carriers:
              - { id: china-mobile, country_code: 86, prefixes: [138] }
              - { id: china-unicom, country_code: 86, prefixes: [186] }
            gateways:
              - { name: primary, url: "\(base)/send", format: json, price_per_segment: 0.05 }
            """.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
            let recipients =
                "phone\n"
                + (0..<30).map { "\($0 % 2 == 0 ? "138" : "186")0013\(8000 + $0)" }
                .joined(separator: "\n") + "\nnot-a-phone\n"
            let send = try await SparrowProcess.outcome(
                ["send", "-c", "sparrow.yaml", "--text", "双12 全场五折", "--campaign", "d12", "--holdout", "30%"],
                stdin: Data(recipients.utf8), in: folder)
            #expect(send.status == 0, "\(send.stderr)")
            let now = Date().timeIntervalSince1970
            // Every message is delivered two seconds later, as its receipt says.
            let store = try SQLiteStore(path: folder.appendingPathComponent("state.sqlite").path)
            _ = try await store.apply(
                (1...simulator.stats.messages).map {
                    ReceiptRecord(
                        gateway: nil, gatewayMessageID: "sim-\($0)", state: .delivered,
                        at: Timestamp(secondsSince1970: Int64(now) + 2))
                })
            // Everyone bought a month ago; those of even index buy again within the hour.
            func stamp(_ offset: Double) -> String {
                Timestamp(secondsSince1970: Int64(now + offset)).description
            }
            let orders =
                "order_id,customer_id,phone,paid_at,amount\n"
                + (0..<30).map { index in
                    let phone = "\(index % 2 == 0 ? "138" : "186")0013\(8000 + index)"
                    return "h\(index),c\(index),\(phone),\(stamp(-30 * 86_400)),\(100 + index)\n"
                        + (index % 2 == 0 ? "a\(index),c\(index),\(phone),\(stamp(3600)),88\n" : "")
                }.joined()
            try orders.write(to: folder.appendingPathComponent("orders.csv"), atomically: true, encoding: .utf8)
            let effect = try await SparrowProcess.outcome(
                ["effect", "-c", "sparrow.yaml", "--campaign", "d12", "--orders", "orders.csv"], in: folder)
            #expect(effect.status == 0, "\(effect.stderr)")
            return try await SparrowProcess.outcome(
                ["report", "-c", "sparrow.yaml", "--campaign", "d12", "--format", "html", "--lang", "zh"], in: folder)
        }
        #expect(report.status == 0, "\(report.stderr)")
        let page = folder.appendingPathComponent("report.html")
        try report.stdout.write(to: page, atomically: true, encoding: .utf8)

        let rendering = try await Self.render(page)
        #expect(rendering.dom.contains("<title>营销活动 d12</title>"))
        // The funnel, the carriers' rates, the sends and deliveries over time, the delivery latency, and the effect's:
        // conversion by segment and by grid cell beside the holdout's, and ROI by segment.
        #expect(rendering.dom.components(separatedBy: "<svg").count - 1 == 7)
        #expect(rendering.dom.contains(">各 RFM 网格转化率</h2>") && rendering.dom.contains(">RFM 网格：发送人数 · 转化率（对照组）</h2>"))
        #expect(rendering.dom.contains(">发送与送达（每 1m）</h2>") && rendering.dom.contains(">已送达</text>"))
        // Every delivery took the same few seconds: one band holds them all.
        #expect(rendering.dom.contains(">送达耗时（发送至送达回执）</h2>") && rendering.dom.contains("(100.0%)</text>"))
        #expect(rendering.dom.contains("营销效果") && rendering.dom.contains(">各分群转化率</h2>"))
        #expect(rendering.dom.contains(">对照组</text>") && rendering.dom.contains("提升"))
        #expect(rendering.dom.contains(">送达率</th>") && rendering.dom.contains(">china-unicom</text>"))
        #expect(rendering.consoleErrors.isEmpty, "\(rendering.consoleErrors)")
        #expect(rendering.pageRequests == 0)

        let screenshot = folder.appendingPathComponent("report.png")
        _ = try await Self.render(page, screenshot: screenshot)
        let png = try Data(contentsOf: screenshot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000)
    }

    /// The check that the page fetched nothing can fail: a page with an image from elsewhere is caught.
    @Test func aPageThatFetchesIsCaught() async throws {
        let folder = try SparrowProcess.temporaryFolder()
        let page = folder.appendingPathComponent("fetching.html")
        try #"<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/pixel.png"></body></html>"#.write(
            to: page, atomically: true, encoding: .utf8)
        #expect(try await Self.render(page).pageRequests > 0)
    }
}
