import Foundation
import Testing

/// `sparrow lint`, and the same checks stopping `plan`, `send` and `flows`: each finding names file, line and column.
@Suite struct LintCommandTests {
    static let configuration = """
        store: ./state.sqlite
        signature: "【青禾旗舰店】"
        optout_suffix: "回T退订"
        quiet_hours: off
        gateways:
          - { name: primary, url: "http://127.0.0.1:9/v1/sms", format: json }
        lint: { link_domains: [qinghe.cn] }
        flows: { rules: flows.yaml }
        """

    static let rules = """
        rules:
          - name: shipped
            on: shipped
            text: "您的订单{{order}}已发货"
          - name: upsell
            on: paid
            purpose: marketing
            steps:
              - { after: 6m, text: "满79.9减5，戳 https://qinghe.cn/{{coupon}}" }
        """

    static func folder() throws -> URL {
        let folder = try SparrowProcess.temporaryFolder()
        try configuration.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        try rules.write(to: folder.appendingPathComponent("flows.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func findingsNameTheirFileLineAndColumn() throws {
        let folder = try Self.folder()
        try "【青禾】会员日8折\n详情 https://t.cn/x".write(
            to: folder.appendingPathComponent("spring.mustache"), atomically: true, encoding: .utf8)
        let lint = try SparrowProcess.run(["lint", "-c", "sparrow.yaml", "--template", "spring.mustache"], in: folder)
        #expect(lint.status == 2, "\(lint.stderr)")
        #expect(
            lint.stdoutLines == [
                // The configured signature comes first: the template's own 【青禾】 is text after it.
                "spring.mustache:2:4: error: the link to t.cn is not to one of the store's domains (qinghe.cn) [link-domain]",
                "sparrow.yaml:4:14: warning: marketing goes only from 08:00 to 22:00, recipient time: quiet_hours is off [marketing-hours]",
                "flows.yaml:9:39: error: the link 'https://qinghe.cn/{{coupon}}' holds a variable: links are constants of the store's domains; {{link}} gives each customer a tracked one [link-variable]",
                "flows.yaml:9:57: warning: no order event gives 'coupon' (amount, buyer_phone, carrier_name, checkout_url, city, closes_at, email, items, name, nickname, number, order, phone, rating, refund, tracking) [variable]",
            ])
        #expect(lint.stderr.contains("2 errors, 2 warnings"))
        let clean = try SparrowProcess.run(
            ["lint", "-c", "sparrow.yaml", "--text", "您的包裹已发出", "--transactional"], in: folder)
        #expect(clean.stdoutLines.count == 2)  // the flows' rule's findings still
    }

    @Test func aStoreOutsideChinaSignsAsItLikes() throws {
        let folder = try SparrowProcess.temporaryFolder()
        let configuration = """
            store: ./state.sqlite
            default_region: GB
            signature: "[Qinghe] "
            quiet_hours: { start: "21:00", end: "08:00" }
            gateways:
              - { name: primary, url: "http://127.0.0.1:9/v1/sms", format: json }
            """
        try configuration.write(to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let lint = try SparrowProcess.run(
            ["lint", "-c", "sparrow.yaml", "--text", "Hi {{name}}, the new season is in. Reply STOP to opt out"],
            in: folder)
        #expect(lint.status == 0, "\(lint.stderr)")
        #expect(lint.stdoutLines.isEmpty, "\(lint.stdoutLines)")
        // In China (the default region), the same signature is refused.
        try configuration.replacingOccurrences(of: "default_region: GB", with: "default_region: CN").write(
            to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let china = try SparrowProcess.run(
            ["lint", "-c", "sparrow.yaml", "--text", "Hi {{name}}, the new season is in. Reply STOP to opt out"],
            in: folder)
        #expect(china.status == 2)
        #expect(china.stdoutLines.contains { $0.hasSuffix("[signature]") }, "\(china.stdoutLines)")
    }

    @Test func planAndSendStopOnErrorsAndPrintWarnings() throws {
        let folder = try Self.folder()
        try Self.rules.replacingOccurrences(of: "/{{coupon}}", with: "/coupon").write(
            to: folder.appendingPathComponent("flows.yaml"), atomically: true, encoding: .utf8)
        let recipients = Data("phone,name\n13800138000,王\n".utf8)
        let refused = try SparrowProcess.run(
            ["send", "-c", "sparrow.yaml", "--campaign", "x", "--text", "{{name}} 戳 https://evil.example.com"],
            stdin: recipients, in: folder)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--text:1:12: error: the link to evil.example.com"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("state.sqlite").path))
        let warned = try SparrowProcess.run(
            ["plan", "-c", "sparrow.yaml", "--text", "{{name}}，会员日8折"], stdin: recipients, in: folder)
        #expect(warned.status == 0, "\(warned.stderr)")
        #expect(warned.stderr.contains("sparrow: sparrow.yaml:4:14: warning: marketing goes only from 08:00 to 22:00"))
        // Strict: the warning stops it.
        try Self.configuration.replacingOccurrences(of: "lint: {", with: "lint: { strict: true,").write(
            to: folder.appendingPathComponent("sparrow.yaml"), atomically: true, encoding: .utf8)
        let strict = try SparrowProcess.run(
            ["plan", "-c", "sparrow.yaml", "--text", "{{name}}，会员日8折"], stdin: recipients, in: folder)
        #expect(strict.status == 2)
    }

    @Test func flowsStopOnTheirRulesErrors() throws {
        let folder = try Self.folder()
        let flows = try SparrowProcess.run(["flows", "-c", "sparrow.yaml", "--stdin", "--replay"], in: folder)
        #expect(flows.status == 2)
        #expect(
            flows.stderr.contains("flows.yaml:9:39: error: the link 'https://qinghe.cn/{{coupon}}' holds a variable"))
    }
}
